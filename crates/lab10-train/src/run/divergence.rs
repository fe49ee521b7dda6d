//! The first non-finite training loss stops training at once; earlier checkpoints stay good.

use std::sync::{Arc, Mutex};

use burn::train::Interrupter;

/// Shared by the learner's renderer (which watches the loss) and `train` (which reports it).
#[derive(Clone, Default)]
pub(crate) struct Divergence(Arc<Mutex<Option<String>>>);

impl Divergence {
    /// Notes a training loss of `epoch`; the first non-finite one stops the learner.
    pub fn watch(&self, loss: f64, epoch: usize, interrupter: &Interrupter) {
        if loss.is_finite() {
            return;
        }
        let mut why = self.0.lock().expect("divergence lock");
        if why.is_none() {
            let message = format!("the training loss became {loss} in epoch {epoch}");
            interrupter.stop(Some(&message));
            *why = Some(message);
        }
    }

    /// Why training diverged, if it did.
    pub fn take(&self) -> Option<String> {
        self.0.lock().expect("divergence lock").take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_non_finite_loss_stops_training_and_is_kept() {
        let divergence = Divergence::default();
        let interrupter = Interrupter::new();
        divergence.watch(2.3, 1, &interrupter);
        assert!(!interrupter.should_stop());
        divergence.watch(f64::NAN, 3, &interrupter);
        divergence.watch(f64::INFINITY, 4, &interrupter);
        assert!(interrupter.should_stop());
        assert_eq!(
            divergence.take().as_deref(),
            Some("the training loss became NaN in epoch 3")
        );
    }
}
