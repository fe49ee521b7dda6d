//! Named initialisers, as they appear in experiment files, mapped onto Burn's [`Initializer`].

use burn::nn::Initializer;
use serde::{Deserialize, Serialize};

/// How a tensor starts. `kind` selects the scheme:
///
/// ```toml
/// weight_init = { kind = "normal", mean = 0.0, std = 1.0 }   # the lesson's tf.random_normal
/// weight_init = { kind = "xavier-normal" }                   # Glorot: std = sqrt(2 / (fan_in + fan_out))
/// bias_init = { kind = "zeros" }                             # Keras/PyTorch style biases
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Init {
    /// Normal(mean, std) with fixed std: the lesson's "stupid" init when std = 1.
    Normal {
        #[serde(default)]
        mean: f64,
        #[serde(default = "one")]
        std: f64,
    },
    /// Glorot & Bengio (2010), normal: std = gain * sqrt(2 / (fan_in + fan_out)).
    XavierNormal {
        #[serde(default = "one")]
        gain: f64,
    },
    /// Glorot & Bengio (2010), uniform: limit = gain * sqrt(6 / (fan_in + fan_out)).
    XavierUniform {
        #[serde(default = "one")]
        gain: f64,
    },
    /// He et al. (2015), normal: std = gain * sqrt(1 / fan_in); gain sqrt(2) suits ReLU.
    KaimingNormal {
        #[serde(default = "sqrt_two")]
        gain: f64,
    },
    /// He et al. (2015), uniform: limit = gain * sqrt(3 / fan_in).
    KaimingUniform {
        #[serde(default = "sqrt_two")]
        gain: f64,
    },
    Zeros,
}

fn one() -> f64 {
    1.0
}

fn sqrt_two() -> f64 {
    std::f64::consts::SQRT_2
}

impl Init {
    pub fn to_burn(&self) -> Initializer {
        match *self {
            Init::Normal { mean, std } => Initializer::Normal { mean, std },
            Init::XavierNormal { gain } => Initializer::XavierNormal { gain },
            Init::XavierUniform { gain } => Initializer::XavierUniform { gain },
            Init::KaimingNormal { gain } => Initializer::KaimingNormal {
                gain,
                fan_out_only: false,
            },
            Init::KaimingUniform { gain } => Initializer::KaimingUniform {
                gain,
                fan_out_only: false,
            },
            Init::Zeros => Initializer::Zeros,
        }
    }

    /// A short human name, used in summaries.
    pub fn label(&self) -> String {
        match self {
            Init::Normal { mean, std } => format!("normal({mean}, {std})"),
            Init::XavierNormal { gain } => gain_label("xavier-normal", *gain, 1.0),
            Init::XavierUniform { gain } => gain_label("xavier-uniform", *gain, 1.0),
            Init::KaimingNormal { gain } => gain_label("kaiming-normal", *gain, sqrt_two()),
            Init::KaimingUniform { gain } => gain_label("kaiming-uniform", *gain, sqrt_two()),
            Init::Zeros => "zeros".into(),
        }
    }

    pub(crate) fn validate(&self, what: &str) -> Result<(), String> {
        let (name, value) = match self {
            Init::Normal { std, mean } => {
                if !mean.is_finite() {
                    return Err(format!("{what}: mean must be finite, got {mean}"));
                }
                ("std", *std)
            }
            Init::XavierNormal { gain }
            | Init::XavierUniform { gain }
            | Init::KaimingNormal { gain }
            | Init::KaimingUniform { gain } => ("gain", *gain),
            Init::Zeros => return Ok(()),
        };
        if value.is_finite() && value > 0.0 {
            Ok(())
        } else {
            Err(format!(
                "{what}: {name} must be a positive number, got {value}"
            ))
        }
    }
}

fn gain_label(name: &str, gain: f64, default: f64) -> String {
    if (gain - default).abs() < 1e-12 {
        name.to_string()
    } else {
        format!("{name}(gain {gain})")
    }
}
