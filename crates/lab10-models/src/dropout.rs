//! Dropout (`dropout` in an experiment's `[model]`): Burn's `Dropout` after every hidden
//! layer's activation, dropping each unit with probability `p` while training and rescaling
//! the rest by 1 / (1 - p) (inverted dropout, as TensorFlow's `keep_prob` did). Burn applies it
//! only on an autodiff (training) device, so evaluation sees the whole network.

/// `p` must be a probability below 1 (the lesson's keep_prob 0.7 is `dropout = 0.3`).
pub(crate) fn validate(p: f64) -> Result<(), String> {
    if p.is_finite() && (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(format!(
            "dropout must be in [0, 1) (the probability of dropping a unit), got {p}"
        ))
    }
}
