//! The optional `[pretrain]` table: greedy layer-wise RBM pre-training of the hidden layers on
//! the training images, before supervised training with the experiment's optimiser.
//!
//! ```toml
//! [pretrain]
//! kind = "rbm"
//! epochs = 5            # CD-1 passes over the training images, per layer
//! learning_rate = 0.05
//! batch_size = 100
//! ```
//!
//! The pre-training itself needs the data, so it is a step of a run (lab10-train), not an `Init`.

use lab10_models::{MlpConfig, PixelScale};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum PretrainConfig {
    /// Hinton, Osindero & Teh (2006): each hidden layer trained as an RBM with CD-1 on the
    /// previous layer's hidden probabilities.
    Rbm {
        epochs: usize,
        learning_rate: f64,
        #[serde(default = "batch_size")]
        batch_size: usize,
    },
}

fn batch_size() -> usize {
    100
}

impl PretrainConfig {
    pub fn validate(&self, model: &MlpConfig, pixels: PixelScale) -> Result<(), String> {
        let PretrainConfig::Rbm {
            epochs,
            learning_rate,
            batch_size,
        } = *self;
        if epochs == 0 || batch_size == 0 {
            return Err("pretrain: epochs and batch_size must be at least 1".into());
        }
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(format!(
                "pretrain: learning_rate must be a positive number, got {learning_rate}"
            ));
        }
        if model.hidden.is_empty() {
            return Err("pretrain: the model has no hidden layer to pre-train".into());
        }
        if pixels != PixelScale::Unit {
            return Err(
                "pretrain: RBM visible units are probabilities, so pixels must be \"unit\"".into(),
            );
        }
        Ok(())
    }

    pub fn label(&self) -> String {
        let PretrainConfig::Rbm {
            epochs,
            learning_rate,
            batch_size,
        } = self;
        format!("RBM CD-1 ({epochs} epochs/layer, lr {learning_rate}, batch {batch_size})")
    }
}
