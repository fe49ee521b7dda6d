//! What the optimisers share: the [`OptimizerSettings`] trait each one's settings implement, and the
//! serde defaults and checks of their settings.

use burn::optim::ModuleOptimizer;
use burn::optim::decay::WeightDecayConfig;

/// What every optimiser's settings do: build Burn's optimiser, and say and check themselves.
pub trait OptimizerSettings {
    /// Burn's optimiser with these settings.
    fn init(&self) -> ModuleOptimizer;
    /// One line for logs and reports, e.g. `Adam(lr 0.001, betas 0.9/0.999, eps 1e-8)`.
    fn label(&self) -> String;
    /// Values serde accepts but the optimiser cannot use (the learning rate is checked for all).
    fn validate(&self) -> Result<(), String>;
}

pub(super) fn beta1() -> f32 {
    0.9
}
pub(super) fn beta2() -> f32 {
    0.999
}
/// TensorFlow's default 1e-8 for Adam; Burn's own default is 1e-5.
pub(super) fn epsilon() -> f32 {
    1e-8
}
/// Keras' default for AdaGrad and RMSProp.
pub(super) fn keras_epsilon() -> f32 {
    1e-7
}
pub(super) fn is_zero(x: &f32) -> bool {
    *x == 0.0
}

/// Burn's weight decay, which adds `l2 * w` to the gradient; none for 0.
pub(super) fn decay(l2: f32) -> Option<WeightDecayConfig> {
    (l2 > 0.0).then(|| WeightDecayConfig::new(l2))
}

/// `", L2 1e-4"` for a label, or nothing.
pub(super) fn l2_label(l2: f32) -> String {
    if l2 > 0.0 {
        format!(", L2 {l2:e}")
    } else {
        String::new()
    }
}

/// Adam's and AdamW's moment settings: decays in [0, 1), a positive epsilon.
pub(super) fn check_moments(beta1: f32, beta2: f32, epsilon: f32) -> Result<(), String> {
    fraction("beta1", beta1.into())?;
    fraction("beta2", beta2.into())?;
    positive("epsilon", epsilon)
}

/// `Err("<name> must be <must>, got <x>")` unless `ok`.
fn check(ok: bool, name: &str, must: &str, x: impl std::fmt::Display) -> Result<(), String> {
    ok.then_some(())
        .ok_or_else(|| format!("{name} must be {must}, got {x}"))
}

pub(super) fn fraction(name: &str, x: f64) -> Result<(), String> {
    check((0.0..1.0).contains(&x), name, "in [0, 1)", x)
}

pub(super) fn positive(name: &str, x: f32) -> Result<(), String> {
    check(x.is_finite() && x > 0.0, name, "a positive number", x)
}

pub(super) fn non_negative(name: &str, x: f32) -> Result<(), String> {
    check(x.is_finite() && x >= 0.0, name, "0 or more", x)
}
