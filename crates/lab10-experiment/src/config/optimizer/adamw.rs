//! Loshchilov & Hutter (2019): Adam with weight decay applied to the weights directly, outside
//! the adaptive rescaling.

use burn::optim::{AdamWConfig, ModuleOptimizer};
use serde::{Deserialize, Serialize};

use super::common::{OptimizerSettings, beta1, beta2, check_moments, epsilon, non_negative};
use super::schedule::Schedule;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamW {
    pub learning_rate: f64,
    #[serde(default, skip_serializing_if = "Schedule::is_constant")]
    pub schedule: Schedule,
    #[serde(default = "beta1")]
    pub beta1: f32,
    #[serde(default = "beta2")]
    pub beta2: f32,
    #[serde(default = "epsilon")]
    pub epsilon: f32,
    /// Keras' default 0.004.
    #[serde(default = "weight_decay")]
    pub weight_decay: f32,
}

fn weight_decay() -> f32 {
    0.004
}

impl OptimizerSettings for AdamW {
    fn init(&self) -> ModuleOptimizer {
        AdamWConfig::new()
            .with_beta_1(self.beta1)
            .with_beta_2(self.beta2)
            .with_epsilon(self.epsilon)
            .with_weight_decay(self.weight_decay)
            .init()
    }

    fn label(&self) -> String {
        format!(
            "AdamW(lr {}, betas {}/{}, eps {:e}, weight decay {})",
            self.learning_rate, self.beta1, self.beta2, self.epsilon, self.weight_decay
        )
    }

    fn validate(&self) -> Result<(), String> {
        check_moments(self.beta1, self.beta2, self.epsilon)?;
        non_negative("weight_decay", self.weight_decay)
    }
}
