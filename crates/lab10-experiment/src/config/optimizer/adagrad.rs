//! Duchi et al. (2011): per-parameter steps shrinking with the sum of squared gradients.

use burn::optim::{AdaGradConfig, ModuleOptimizer};
use serde::{Deserialize, Serialize};

use super::common::{
    OptimizerSettings, decay, is_zero, keras_epsilon, l2_label, non_negative, positive,
};
use super::schedule::Schedule;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdaGrad {
    pub learning_rate: f64,
    #[serde(default, skip_serializing_if = "Schedule::is_constant")]
    pub schedule: Schedule,
    #[serde(default = "keras_epsilon")]
    pub epsilon: f32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub l2: f32,
}

impl OptimizerSettings for AdaGrad {
    fn init(&self) -> ModuleOptimizer {
        AdaGradConfig::new()
            .with_epsilon(self.epsilon)
            .with_weight_decay(decay(self.l2))
            .init()
    }

    fn label(&self) -> String {
        format!(
            "AdaGrad(lr {}, eps {:e}{})",
            self.learning_rate,
            self.epsilon,
            l2_label(self.l2)
        )
    }

    fn validate(&self) -> Result<(), String> {
        positive("epsilon", self.epsilon)?;
        non_negative("l2", self.l2)
    }
}
