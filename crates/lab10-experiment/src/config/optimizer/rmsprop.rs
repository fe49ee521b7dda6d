//! Hinton's RMSProp: steps scaled by a running mean of squared gradients.

use burn::optim::{ModuleOptimizer, RmsPropConfig};
use serde::{Deserialize, Serialize};

use super::common::{
    OptimizerSettings, decay, fraction, is_zero, keras_epsilon, l2_label, non_negative, positive,
};
use super::schedule::Schedule;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmsProp {
    pub learning_rate: f64,
    #[serde(default, skip_serializing_if = "Schedule::is_constant")]
    pub schedule: Schedule,
    /// Decay of the running mean of squared gradients (Keras' rho).
    #[serde(default = "rho")]
    pub alpha: f32,
    /// Keras' and PyTorch's default 0 (Burn's is 0.9).
    #[serde(default)]
    pub momentum: f32,
    #[serde(default = "keras_epsilon")]
    pub epsilon: f32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub l2: f32,
}

fn rho() -> f32 {
    0.9
}

impl OptimizerSettings for RmsProp {
    fn init(&self) -> ModuleOptimizer {
        RmsPropConfig::new()
            .with_alpha(self.alpha)
            .with_momentum(self.momentum)
            .with_epsilon(self.epsilon)
            .with_weight_decay(decay(self.l2))
            .init()
    }

    fn label(&self) -> String {
        format!(
            "RMSProp(lr {}, rho {}, momentum {}, eps {:e}{})",
            self.learning_rate,
            self.alpha,
            self.momentum,
            self.epsilon,
            l2_label(self.l2)
        )
    }

    fn validate(&self) -> Result<(), String> {
        fraction("alpha", self.alpha.into())?;
        fraction("momentum", self.momentum.into())?;
        positive("epsilon", self.epsilon)?;
        non_negative("l2", self.l2)
    }
}
