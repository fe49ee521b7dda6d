//! The activation after every hidden layer (`activation` in an experiment's `[model]`): the
//! lesson's ReLU, or sigmoid and tanh for its vanishing-gradient experiments. Burn's own
//! activation modules do the work.

use burn::nn::activation::ActivationConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActivationKind {
    #[default]
    Relu,
    Sigmoid,
    Tanh,
}

impl ActivationKind {
    pub fn to_burn(self) -> ActivationConfig {
        match self {
            ActivationKind::Relu => ActivationConfig::Relu,
            ActivationKind::Sigmoid => ActivationConfig::Sigmoid,
            ActivationKind::Tanh => ActivationConfig::Tanh,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ActivationKind::Relu => "ReLU",
            ActivationKind::Sigmoid => "Sigmoid",
            ActivationKind::Tanh => "Tanh",
        }
    }
}
