//! `[optimizer.schedule]`: the learning rate over training, as one of burn-optim's schedulers
//! (`lr_scheduler`), its parameters named as burn-optim names them. A scheduler steps once per
//! optimiser step (batch), so `step_size` and `num_iters` count batches; it starts at the
//! optimiser's `learning_rate`. Burn checkpoints its state with the optimiser's, so a resumed
//! run continues the schedule.

use burn::optim::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::optim::lr_scheduler::exponential::ExponentialLrSchedulerConfig;
use burn::optim::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::optim::lr_scheduler::step::StepLrSchedulerConfig;
use serde::{Deserialize, Serialize};

/// ```toml
/// [optimizer.schedule]
/// kind = "cosine"        # constant (default) | step | exponential | cosine | linear
/// num_iters = 9000       # cosine: lr from learning_rate down to min_lr (default 0) over 9000 steps
/// # step: step_size, gamma (default 0.1); exponential: gamma; linear: final_lr, num_iters
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Schedule {
    #[default]
    Constant,
    Step {
        step_size: usize,
        #[serde(default = "tenth")]
        gamma: f64,
    },
    Exponential {
        gamma: f64,
    },
    Cosine {
        num_iters: usize,
        #[serde(default)]
        min_lr: f64,
    },
    Linear {
        final_lr: f64,
        num_iters: usize,
    },
}

fn tenth() -> f64 {
    0.1
}

impl Schedule {
    pub fn is_constant(&self) -> bool {
        *self == Schedule::Constant
    }

    /// Burn's scheduler starting at `lr`, or burn-optim's word on what it cannot use.
    pub fn init(&self, lr: f64) -> Result<ModuleLrScheduler, String> {
        match *self {
            Schedule::Constant => Ok(lr.into()),
            Schedule::Step { step_size, gamma } => StepLrSchedulerConfig::new(lr, step_size)
                .with_gamma(gamma)
                .init(),
            Schedule::Exponential { gamma } => ExponentialLrSchedulerConfig::new(lr, gamma).init(),
            Schedule::Cosine { num_iters, min_lr } => {
                CosineAnnealingLrSchedulerConfig::new(lr, num_iters)
                    .with_min_lr(min_lr)
                    .init()
            }
            Schedule::Linear {
                final_lr,
                num_iters,
            } => LinearLrSchedulerConfig::new(lr, final_lr, num_iters).init(),
        }
        .map_err(|e| format!("[optimizer.schedule]: {e}"))
    }
}
