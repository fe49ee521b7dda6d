//! Plain gradient descent, optionally with (Nesterov) momentum.

use burn::optim::momentum::MomentumConfig;
use burn::optim::{ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

use super::common::{OptimizerSettings, decay, fraction, is_zero, l2_label, non_negative};
use super::schedule::Schedule;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sgd {
    pub learning_rate: f64,
    #[serde(default, skip_serializing_if = "Schedule::is_constant")]
    pub schedule: Schedule,
    /// 0 = plain SGD; 0.9 is the usual "SGD with momentum".
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub nesterov: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub l2: f32,
}

impl OptimizerSettings for Sgd {
    fn init(&self) -> ModuleOptimizer {
        // Keras' and PyTorch's momentum: no dampening (Burn's default damps by 0.1).
        let momentum = (self.momentum > 0.0).then(|| {
            MomentumConfig::new()
                .with_momentum(self.momentum)
                .with_dampening(0.0)
                .with_nesterov(self.nesterov)
        });
        SgdConfig::new()
            .with_momentum(momentum)
            .with_weight_decay(decay(self.l2))
            .init()
    }

    fn label(&self) -> String {
        let m = match (self.momentum > 0.0, self.nesterov) {
            (false, _) => String::new(),
            (true, false) => format!(", momentum {}", self.momentum),
            (true, true) => format!(", Nesterov momentum {}", self.momentum),
        };
        format!("SGD(lr {}{m}{})", self.learning_rate, l2_label(self.l2))
    }

    fn validate(&self) -> Result<(), String> {
        fraction("momentum", self.momentum)?;
        non_negative("l2", self.l2)
    }
}
