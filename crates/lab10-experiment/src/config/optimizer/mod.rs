//! The `[optimizer]` table of an experiment: Burn's optimisers, by name, one file each.
//!
//! The lesson uses Adam throughout; the others are here so that "the optimiser matters" can be
//! seen on the same model and budget. Defaults follow Keras where Burn's differ (Burn's SGD
//! momentum damps by 0.1 and its RMSProp adds momentum 0.9 by default; Keras and PyTorch do
//! neither), so a name means what a reader of the lesson expects.
//!
//! A new optimiser: a file here with its settings struct implementing [`OptimizerSettings`] (in
//! `common.rs`, with the shared defaults and checks), one variant in [`OptimizerConfig`] and one
//! line in `each!`.

mod adagrad;
mod adam;
mod adamw;
mod common;
mod rmsprop;
mod schedule;
mod sgd;

use burn::optim::ModuleOptimizer;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use serde::{Deserialize, Serialize};

pub use adagrad::AdaGrad;
pub use adam::Adam;
pub use adamw::AdamW;
pub use common::OptimizerSettings;
pub use rmsprop::RmsProp;
pub use schedule::Schedule;
pub use sgd::Sgd;

/// ```toml
/// [optimizer]
/// kind = "adam"            # sgd | adagrad | rmsprop | adam | adamw
/// learning_rate = 0.001
/// l2 = 1e-4                # optional: L2 penalty added to the gradient (sgd, adagrad, rmsprop, adam)
/// [optimizer.schedule]     # optional: the learning rate over training (schedule.rs)
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OptimizerConfig {
    Sgd(Sgd),
    Adagrad(AdaGrad),
    Rmsprop(RmsProp),
    /// The lesson's optimiser.
    Adam(Adam),
    Adamw(AdamW),
}

/// `$body` with `$o` bound to whichever optimiser's settings `$config` holds.
macro_rules! each {
    ($config:expr, $o:ident => $body:expr) => {
        match $config {
            OptimizerConfig::Sgd($o) => $body,
            OptimizerConfig::Adagrad($o) => $body,
            OptimizerConfig::Rmsprop($o) => $body,
            OptimizerConfig::Adam($o) => $body,
            OptimizerConfig::Adamw($o) => $body,
        }
    };
}

impl OptimizerConfig {
    /// The chosen optimiser's settings.
    pub fn settings(&self) -> &dyn OptimizerSettings {
        each!(self, o => o)
    }

    pub fn learning_rate(&self) -> f64 {
        each!(self, o => o.learning_rate)
    }

    pub fn schedule(&self) -> &Schedule {
        each!(self, o => &o.schedule)
    }

    /// Burn's learning-rate scheduler (the schedule was checked by [`Self::validate`]).
    pub fn scheduler(&self) -> ModuleLrScheduler {
        let lr = self.learning_rate();
        self.schedule().init(lr).expect("a validated schedule")
    }

    pub fn set_learning_rate(&mut self, lr: f64) {
        each!(self, o => o.learning_rate = lr)
    }

    pub fn init(&self) -> ModuleOptimizer {
        self.settings().init()
    }

    pub fn label(&self) -> String {
        match self.schedule() {
            Schedule::Constant => self.settings().label(),
            schedule => format!("{}, {schedule:?}", self.settings().label()),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        let lr = self.learning_rate();
        if !(lr.is_finite() && lr > 0.0) {
            return Err(format!("learning_rate must be a positive number, got {lr}"));
        }
        self.schedule().init(lr)?;
        self.settings().validate()
    }
}
