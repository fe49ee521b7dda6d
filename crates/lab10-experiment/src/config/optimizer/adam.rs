//! Kingma & Ba (2014), the lesson's optimiser.

use burn::optim::{AdamConfig, ModuleOptimizer};
use serde::{Deserialize, Serialize};

use super::common::{
    OptimizerSettings, beta1, beta2, check_moments, decay, epsilon, is_zero, l2_label, non_negative,
};
use super::schedule::Schedule;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adam {
    pub learning_rate: f64,
    #[serde(default, skip_serializing_if = "Schedule::is_constant")]
    pub schedule: Schedule,
    #[serde(default = "beta1")]
    pub beta1: f32,
    #[serde(default = "beta2")]
    pub beta2: f32,
    #[serde(default = "epsilon")]
    pub epsilon: f32,
    /// L2 regularisation: `l2 * w` is added to every gradient (coupled, as in
    /// `loss + l2/2 * |w|^2`); Adam then rescales it like the rest of the gradient.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub l2: f32,
}

impl OptimizerSettings for Adam {
    fn init(&self) -> ModuleOptimizer {
        AdamConfig::new()
            .with_beta_1(self.beta1)
            .with_beta_2(self.beta2)
            .with_epsilon(self.epsilon)
            .with_weight_decay(decay(self.l2))
            .init()
    }

    fn label(&self) -> String {
        format!(
            "Adam(lr {}, betas {}/{}, eps {:e}{})",
            self.learning_rate,
            self.beta1,
            self.beta2,
            self.epsilon,
            l2_label(self.l2)
        )
    }

    fn validate(&self) -> Result<(), String> {
        check_moments(self.beta1, self.beta2, self.epsilon)?;
        non_negative("l2", self.l2)
    }
}
