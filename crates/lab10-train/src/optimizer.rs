//! The `[optimizer]` table of an experiment: Burn's optimisers, by name.
//!
//! The lesson uses Adam throughout; the others are here so that "the optimiser matters" can be
//! seen on the same model and budget. Defaults follow Keras where Burn's differ (Burn's SGD
//! momentum damps by 0.1 and its RMSProp adds momentum 0.9 by default; Keras and PyTorch do
//! neither), so a name means what a reader of the lesson expects.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdaGradConfig, AdamConfig, AdamWConfig, ModuleOptimizer, RmsPropConfig, SgdConfig,
};
use serde::{Deserialize, Serialize};

/// ```toml
/// [optimizer]
/// kind = "adam"            # sgd | adagrad | rmsprop | adam | adamw
/// learning_rate = 0.001
/// l2 = 1e-4                # optional: L2 penalty added to the gradient (sgd, adagrad, rmsprop, adam)
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// Plain gradient descent, optionally with (Nesterov) momentum.
    Sgd {
        learning_rate: f64,
        /// 0 = plain SGD; 0.9 is the usual "SGD with momentum".
        #[serde(default)]
        momentum: f64,
        #[serde(default)]
        nesterov: bool,
        #[serde(default, skip_serializing_if = "is_zero")]
        l2: f32,
    },
    /// Duchi et al. (2011): per-parameter steps shrinking with the sum of squared gradients.
    Adagrad {
        learning_rate: f64,
        #[serde(default = "keras_epsilon")]
        epsilon: f32,
        #[serde(default, skip_serializing_if = "is_zero")]
        l2: f32,
    },
    /// Hinton's RMSProp: steps scaled by a running mean of squared gradients.
    Rmsprop {
        learning_rate: f64,
        /// Decay of the running mean of squared gradients (Keras' rho).
        #[serde(default = "rho")]
        alpha: f32,
        #[serde(default)]
        momentum: f32,
        #[serde(default = "keras_epsilon")]
        epsilon: f32,
        #[serde(default, skip_serializing_if = "is_zero")]
        l2: f32,
    },
    /// Kingma & Ba (2014), the lesson's optimiser.
    Adam {
        learning_rate: f64,
        #[serde(default = "beta1")]
        beta1: f32,
        #[serde(default = "beta2")]
        beta2: f32,
        /// TensorFlow's default 1e-8; Burn's own default is 1e-5.
        #[serde(default = "epsilon")]
        epsilon: f32,
        /// L2 regularisation: `l2 * w` is added to every gradient (coupled, as in
        /// `loss + l2/2 * |w|^2`); Adam then rescales it like the rest of the gradient.
        #[serde(default, skip_serializing_if = "is_zero")]
        l2: f32,
    },
    /// Loshchilov & Hutter (2019): Adam with weight decay applied to the weights directly,
    /// outside the adaptive rescaling.
    Adamw {
        learning_rate: f64,
        #[serde(default = "beta1")]
        beta1: f32,
        #[serde(default = "beta2")]
        beta2: f32,
        #[serde(default = "epsilon")]
        epsilon: f32,
        /// Keras' default 0.004.
        #[serde(default = "adamw_decay")]
        weight_decay: f32,
    },
}

fn beta1() -> f32 {
    0.9
}
fn beta2() -> f32 {
    0.999
}
fn epsilon() -> f32 {
    1e-8
}
fn keras_epsilon() -> f32 {
    1e-7
}
fn rho() -> f32 {
    0.9
}
fn adamw_decay() -> f32 {
    0.004
}
fn is_zero(x: &f32) -> bool {
    *x == 0.0
}

fn decay(l2: f32) -> Option<WeightDecayConfig> {
    (l2 > 0.0).then(|| WeightDecayConfig::new(l2))
}

impl OptimizerConfig {
    pub fn learning_rate(&self) -> f64 {
        match *self {
            OptimizerConfig::Sgd { learning_rate, .. }
            | OptimizerConfig::Adagrad { learning_rate, .. }
            | OptimizerConfig::Rmsprop { learning_rate, .. }
            | OptimizerConfig::Adam { learning_rate, .. }
            | OptimizerConfig::Adamw { learning_rate, .. } => learning_rate,
        }
    }

    pub fn set_learning_rate(&mut self, lr: f64) {
        match self {
            OptimizerConfig::Sgd { learning_rate, .. }
            | OptimizerConfig::Adagrad { learning_rate, .. }
            | OptimizerConfig::Rmsprop { learning_rate, .. }
            | OptimizerConfig::Adam { learning_rate, .. }
            | OptimizerConfig::Adamw { learning_rate, .. } => *learning_rate = lr,
        }
    }

    pub fn init(&self) -> ModuleOptimizer {
        match *self {
            OptimizerConfig::Sgd {
                momentum,
                nesterov,
                l2,
                ..
            } => SgdConfig::new()
                .with_momentum((momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(momentum)
                        .with_dampening(0.0)
                        .with_nesterov(nesterov)
                }))
                .with_weight_decay(decay(l2))
                .init(),
            OptimizerConfig::Adagrad { epsilon, l2, .. } => AdaGradConfig::new()
                .with_epsilon(epsilon)
                .with_weight_decay(decay(l2))
                .init(),
            OptimizerConfig::Rmsprop {
                alpha,
                momentum,
                epsilon,
                l2,
                ..
            } => RmsPropConfig::new()
                .with_alpha(alpha)
                .with_momentum(momentum)
                .with_epsilon(epsilon)
                .with_weight_decay(decay(l2))
                .init(),
            OptimizerConfig::Adam {
                beta1,
                beta2,
                epsilon,
                l2,
                ..
            } => AdamConfig::new()
                .with_beta_1(beta1)
                .with_beta_2(beta2)
                .with_epsilon(epsilon)
                .with_weight_decay(decay(l2))
                .init(),
            OptimizerConfig::Adamw {
                beta1,
                beta2,
                epsilon,
                weight_decay,
                ..
            } => AdamWConfig::new()
                .with_beta_1(beta1)
                .with_beta_2(beta2)
                .with_epsilon(epsilon)
                .with_weight_decay(weight_decay)
                .init(),
        }
    }

    /// One line for logs and reports, e.g. `Adam(lr 0.001, betas 0.9/0.999, eps 1e-8)`.
    pub fn label(&self) -> String {
        let l2 = |l2: f32| {
            if l2 > 0.0 {
                format!(", L2 {l2:e}")
            } else {
                String::new()
            }
        };
        match *self {
            OptimizerConfig::Sgd {
                learning_rate,
                momentum,
                nesterov,
                l2: p,
            } => {
                let m = match (momentum > 0.0, nesterov) {
                    (false, _) => String::new(),
                    (true, false) => format!(", momentum {momentum}"),
                    (true, true) => format!(", Nesterov momentum {momentum}"),
                };
                format!("SGD(lr {learning_rate}{m}{})", l2(p))
            }
            OptimizerConfig::Adagrad {
                learning_rate,
                epsilon,
                l2: p,
            } => format!("AdaGrad(lr {learning_rate}, eps {epsilon:e}{})", l2(p)),
            OptimizerConfig::Rmsprop {
                learning_rate,
                alpha,
                momentum,
                epsilon,
                l2: p,
            } => format!(
                "RMSProp(lr {learning_rate}, rho {alpha}, momentum {momentum}, eps {epsilon:e}{})",
                l2(p)
            ),
            OptimizerConfig::Adam {
                learning_rate,
                beta1,
                beta2,
                epsilon,
                l2: p,
            } => format!(
                "Adam(lr {learning_rate}, betas {beta1}/{beta2}, eps {epsilon:e}{})",
                l2(p)
            ),
            OptimizerConfig::Adamw {
                learning_rate,
                beta1,
                beta2,
                epsilon,
                weight_decay,
            } => format!(
                "AdamW(lr {learning_rate}, betas {beta1}/{beta2}, eps {epsilon:e}, weight decay {weight_decay})"
            ),
        }
    }

    /// Values serde accepts but no optimiser can use.
    pub fn validate(&self) -> Result<(), String> {
        let lr = self.learning_rate();
        if !(lr.is_finite() && lr > 0.0) {
            return Err(format!("learning_rate must be a positive number, got {lr}"));
        }
        let fraction = |name: &str, x: f64| {
            if (0.0..1.0).contains(&x) {
                Ok(())
            } else {
                Err(format!("{name} must be in [0, 1), got {x}"))
            }
        };
        let positive = |name: &str, x: f32| {
            if x.is_finite() && x > 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be a positive number, got {x}"))
            }
        };
        let non_negative = |name: &str, x: f32| {
            if x.is_finite() && x >= 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be 0 or more, got {x}"))
            }
        };
        match *self {
            OptimizerConfig::Sgd { momentum, l2, .. } => {
                fraction("momentum", momentum)?;
                non_negative("l2", l2)
            }
            OptimizerConfig::Adagrad { epsilon, l2, .. } => {
                positive("epsilon", epsilon)?;
                non_negative("l2", l2)
            }
            OptimizerConfig::Rmsprop {
                alpha,
                momentum,
                epsilon,
                l2,
                ..
            } => {
                fraction("alpha", alpha.into())?;
                fraction("momentum", momentum.into())?;
                positive("epsilon", epsilon)?;
                non_negative("l2", l2)
            }
            OptimizerConfig::Adam {
                beta1,
                beta2,
                epsilon,
                l2: decay,
                ..
            }
            | OptimizerConfig::Adamw {
                beta1,
                beta2,
                epsilon,
                weight_decay: decay,
                ..
            } => {
                fraction("beta1", beta1.into())?;
                fraction("beta2", beta2.into())?;
                positive("epsilon", epsilon)?;
                let key = if matches!(self, OptimizerConfig::Adam { .. }) {
                    "l2"
                } else {
                    "weight_decay"
                };
                non_negative(key, decay)
            }
        }
    }
}
