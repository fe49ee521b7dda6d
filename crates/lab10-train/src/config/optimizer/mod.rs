//! The `[optimizer]` table of an experiment: Burn's optimisers, by name, one file each.
//!
//! The lesson uses Adam throughout; the others are here so that "the optimiser matters" can be
//! seen on the same model and budget. Defaults follow Keras where Burn's differ (Burn's SGD
//! momentum damps by 0.1 and its RMSProp adds momentum 0.9 by default; Keras and PyTorch do
//! neither), so a name means what a reader of the lesson expects.
//!
//! A new optimiser: a file here with its settings struct implementing [`Optimiser`], one
//! variant in [`OptimizerConfig`] and one line in each of its two `match`es.

mod adagrad;
mod adam;
mod adamw;
mod rmsprop;
mod sgd;

use burn::optim::ModuleOptimizer;
use burn::optim::decay::WeightDecayConfig;
use serde::{Deserialize, Serialize};

pub use adagrad::AdaGrad;
pub use adam::Adam;
pub use adamw::AdamW;
pub use rmsprop::RmsProp;
pub use sgd::Sgd;

/// What every optimiser's settings do: build Burn's optimiser, and say and check themselves.
pub trait Optimiser {
    fn learning_rate(&self) -> f64;
    fn set_learning_rate(&mut self, lr: f64);
    /// Burn's optimiser with these settings.
    fn init(&self) -> ModuleOptimizer;
    /// One line for logs and reports, e.g. `Adam(lr 0.001, betas 0.9/0.999, eps 1e-8)`.
    fn label(&self) -> String;
    /// Values serde accepts but the optimiser cannot use (the learning rate is checked for all).
    fn validate(&self) -> Result<(), String>;
}

/// ```toml
/// [optimizer]
/// kind = "adam"            # sgd | adagrad | rmsprop | adam | adamw
/// learning_rate = 0.001
/// l2 = 1e-4                # optional: L2 penalty added to the gradient (sgd, adagrad, rmsprop, adam)
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

impl OptimizerConfig {
    /// The chosen optimiser's settings.
    pub fn settings(&self) -> &dyn Optimiser {
        match self {
            Self::Sgd(o) => o,
            Self::Adagrad(o) => o,
            Self::Rmsprop(o) => o,
            Self::Adam(o) => o,
            Self::Adamw(o) => o,
        }
    }

    fn settings_mut(&mut self) -> &mut dyn Optimiser {
        match self {
            Self::Sgd(o) => o,
            Self::Adagrad(o) => o,
            Self::Rmsprop(o) => o,
            Self::Adam(o) => o,
            Self::Adamw(o) => o,
        }
    }

    pub fn learning_rate(&self) -> f64 {
        self.settings().learning_rate()
    }

    pub fn set_learning_rate(&mut self, lr: f64) {
        self.settings_mut().set_learning_rate(lr);
    }

    pub fn init(&self) -> ModuleOptimizer {
        self.settings().init()
    }

    pub fn label(&self) -> String {
        self.settings().label()
    }

    pub fn validate(&self) -> Result<(), String> {
        let lr = self.learning_rate();
        if !(lr.is_finite() && lr > 0.0) {
            return Err(format!("learning_rate must be a positive number, got {lr}"));
        }
        self.settings().validate()
    }
}

// Defaults and checks the optimisers share.

fn beta1() -> f32 {
    0.9
}
fn beta2() -> f32 {
    0.999
}
/// TensorFlow's default 1e-8 for Adam; Burn's own default is 1e-5.
fn epsilon() -> f32 {
    1e-8
}
/// Keras' default for AdaGrad and RMSProp.
fn keras_epsilon() -> f32 {
    1e-7
}
fn is_zero(x: &f32) -> bool {
    *x == 0.0
}

/// Burn's weight decay, which adds `l2 * w` to the gradient; none for 0.
fn decay(l2: f32) -> Option<WeightDecayConfig> {
    (l2 > 0.0).then(|| WeightDecayConfig::new(l2))
}

/// `", L2 1e-4"` for a label, or nothing.
fn l2_label(l2: f32) -> String {
    if l2 > 0.0 {
        format!(", L2 {l2:e}")
    } else {
        String::new()
    }
}

/// Adam's and AdamW's moment settings: decays in [0, 1), a positive epsilon.
fn check_moments(beta1: f32, beta2: f32, epsilon: f32) -> Result<(), String> {
    fraction("beta1", beta1.into())?;
    fraction("beta2", beta2.into())?;
    positive("epsilon", epsilon)
}

fn fraction(name: &str, x: f64) -> Result<(), String> {
    if (0.0..1.0).contains(&x) {
        Ok(())
    } else {
        Err(format!("{name} must be in [0, 1), got {x}"))
    }
}

fn positive(name: &str, x: f32) -> Result<(), String> {
    if x.is_finite() && x > 0.0 {
        Ok(())
    } else {
        Err(format!("{name} must be a positive number, got {x}"))
    }
}

fn non_negative(name: &str, x: f32) -> Result<(), String> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(format!("{name} must be 0 or more, got {x}"))
    }
}
