//! Stopping on request (Ctrl-C, SIGTERM, a scheduler's SIGUSR1): the CLI owns the signals, the library owns what a
//! stop means. A [`Stop`] is shared by both: the CLI calls [`Stop::request`], training watches
//! it through burn-train's own [`Interrupter`], which ends the epoch loop after the current step.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use burn::train::Interrupter;

use lab10_runs::StopReason;

/// A stop request shared between whoever asks (the CLI's signal thread) and the work that
/// honours it. Cheap to clone; all clones are the same request.
#[derive(Clone, Default)]
pub struct Stop {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    reason: AtomicU8,
    /// The training in progress, if any.
    watched: Mutex<Option<Interrupter>>,
}

impl Stop {
    /// Asks the work to stop. Returns `false` if a stop had been asked for already (the CLI
    /// then exits at once: a second Ctrl-C).
    pub fn request(&self, reason: StopReason) -> bool {
        let first = self
            .inner
            .reason
            .compare_exchange(0, reason as u8, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if first && let Some(interrupter) = self.watched().as_ref() {
            interrupter.stop(Some(&format!("stopped by {}", reason.signal_name())));
        }
        first
    }

    /// The stop asked for, if any.
    pub fn requested(&self) -> Option<StopReason> {
        StopReason::from_code(self.inner.reason.load(Ordering::SeqCst))
    }

    /// Connects a training's interrupter to this stop until the guard is dropped. A stop asked
    /// for before stops the training before its first step.
    pub fn watch(&self, interrupter: Interrupter) -> WatchGuard {
        if let Some(reason) = self.requested() {
            interrupter.stop(Some(&format!("stopped by {}", reason.signal_name())));
        }
        *self.watched() = Some(interrupter);
        WatchGuard { stop: self.clone() }
    }

    fn watched(&self) -> std::sync::MutexGuard<'_, Option<Interrupter>> {
        self.inner
            .watched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A training's interrupter connected to a [`Stop`] ([`Stop::watch`]), until dropped.
pub struct WatchGuard {
    stop: Stop,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.stop.watched().take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_stops_the_watched_training_and_the_second_says_so() {
        let stop = Stop::default();
        let interrupter = Interrupter::new();
        let guard = stop.watch(interrupter.clone());
        assert!(!interrupter.should_stop());
        assert!(stop.request(StopReason::Terminate));
        assert!(interrupter.should_stop());
        assert!(!stop.request(StopReason::Interrupt), "second request");
        assert_eq!(stop.requested(), Some(StopReason::Terminate));
        assert_eq!(stop.requested().unwrap().exit_code(), 143);
        drop(guard);
        // A training started after the request stops at once.
        let late = Interrupter::new();
        let _guard = stop.watch(late.clone());
        assert!(late.should_stop());
    }
}
