//! The shape of a lab model, as written in the `[model]` table of an experiment file.

use serde::{Deserialize, Serialize};

use crate::activation::ActivationKind;
use crate::init::Init;

/// A fully connected classifier: `inputs -> hidden[0] -> ... -> classes`, with the same
/// activation (and dropout, if any) after every hidden layer, and logits out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    #[serde(default = "default_inputs")]
    pub inputs: usize,
    /// Widths of the hidden layers; empty for softmax regression.
    #[serde(default)]
    pub hidden: Vec<usize>,
    #[serde(default = "default_classes")]
    pub classes: usize,
    #[serde(default)]
    pub activation: ActivationKind,
    pub weight_init: Init,
    /// Separate from the weights: the course's TensorFlow drew biases from normal(0, 1),
    /// Keras and PyTorch start them at zero.
    pub bias_init: Init,
    /// Probability of dropping a hidden unit during training (0 = no dropout).
    #[serde(default)]
    pub dropout: f64,
}

fn default_inputs() -> usize {
    lab10_image::IMAGE_PIXELS
}

fn default_classes() -> usize {
    lab10_image::NUM_CLASSES
}

/// A model configuration that cannot be built, with the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid model: {0}")]
pub struct ConfigError(pub String);

impl MlpConfig {
    /// Width of every layer, input and output included: `[784, 256, 256, 10]`.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.inputs)
            .chain(self.hidden.iter().copied())
            .chain(std::iter::once(self.classes))
            .collect()
    }

    /// The widths as people write them: `784-256-256-10`.
    pub fn widths_text(&self) -> String {
        let widths: Vec<String> = self.widths().iter().map(|w| w.to_string()).collect();
        widths.join("-")
    }

    /// Weights plus biases of every linear layer.
    pub fn num_params(&self) -> usize {
        self.widths().windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |m: String| Err(ConfigError(m));
        if self.inputs == 0 || self.classes == 0 {
            return fail(format!(
                "inputs ({}) and classes ({}) must be positive",
                self.inputs, self.classes
            ));
        }
        if let Some(i) = self.hidden.iter().position(|&w| w == 0) {
            return fail(format!("hidden layer {i} has width 0"));
        }
        crate::dropout::validate(self.dropout).map_err(ConfigError)?;
        self.weight_init
            .validate("weight_init")
            .map_err(ConfigError)?;
        self.bias_init.validate("bias_init").map_err(ConfigError)?;
        Ok(())
    }
}
