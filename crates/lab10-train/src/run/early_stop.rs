//! Early stopping and the best epoch, through Burn's own strategies: `MetricEarlyStoppingStrategy`
//! watched (the epoch it stopped at is kept for the report), and a `MetricCheckpointingStrategy`
//! on the same monitor, so the best epoch's checkpoint is never deleted. Burn builds its
//! strategy fresh on a resume; the watch replays the epochs before the checkpoint first, so a
//! resumed run stops where an uninterrupted one does.

use std::sync::{Arc, Mutex};

use burn::train::checkpoint::{
    ComposedCheckpointingStrategy, KeepLastNCheckpoints, MetricCheckpointingStrategy,
};
use burn::train::metric::store::{Aggregate, Direction, EventStoreClient, Split};
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{EarlyStoppingStrategy, MetricEarlyStoppingStrategy, StoppingCondition};
use lab10_experiment::Monitor;
use lab10_runs::EpochRecord;

/// Burn's early stopping on `monitor`, and the epoch it stopped training at.
#[derive(Clone)]
pub(crate) struct EarlyStop {
    inner: MetricEarlyStoppingStrategy,
    /// Epochs to replay before the first decision (a resumed run's, up to its checkpoint).
    replay: usize,
    stopped_at: Arc<Mutex<Option<usize>>>,
}

impl EarlyStop {
    pub fn new(monitor: Monitor, patience: usize, resumed_after: Option<usize>) -> Self {
        let condition = StoppingCondition::NoImprovementSince { n_epochs: patience };
        let (mean, valid) = (Aggregate::Mean, Split::Valid);
        let inner = match monitor {
            Monitor::ValidLoss => MetricEarlyStoppingStrategy::new(
                &LossMetric::new(),
                mean,
                Direction::Lowest,
                valid,
                condition,
            ),
            Monitor::ValidAccuracy => MetricEarlyStoppingStrategy::new(
                &AccuracyMetric::new(),
                mean,
                Direction::Highest,
                valid,
                condition,
            ),
        };
        Self {
            inner,
            replay: resumed_after.unwrap_or(0),
            stopped_at: Arc::default(),
        }
    }

    pub fn stopped_at(&self) -> Option<usize> {
        *self.stopped_at.lock().expect("early stop lock")
    }
}

impl EarlyStoppingStrategy for EarlyStop {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        for replayed in 1..=std::mem::take(&mut self.replay) {
            self.inner.should_stop(replayed, store);
        }
        let stop = self.inner.should_stop(epoch, store);
        if stop {
            *self.stopped_at.lock().expect("early stop lock") = Some(epoch);
        }
        stop
    }
}

/// Burn's checkpointing that keeps the last two epochs and the best by `monitor` (Burn's
/// default, on the loss, made to follow the monitor).
pub(crate) fn keeping_best(monitor: Monitor) -> ComposedCheckpointingStrategy {
    let best = match monitor {
        Monitor::ValidLoss => MetricCheckpointingStrategy::new(
            &LossMetric::new(),
            Aggregate::Mean,
            Direction::Lowest,
            Split::Valid,
        ),
        Monitor::ValidAccuracy => MetricCheckpointingStrategy::new(
            &AccuracyMetric::new(),
            Aggregate::Mean,
            Direction::Highest,
            Split::Valid,
        ),
    };
    ComposedCheckpointingStrategy::builder()
        .add(KeepLastNCheckpoints::new(2))
        .add(best)
        .build()
}

/// The best epoch of `records` by `monitor`: the first of the lowest loss or the highest
/// accuracy, as Burn's metric store finds it.
pub(crate) fn best_epoch(records: &[EpochRecord], monitor: Monitor) -> Option<usize> {
    let score = |r: &EpochRecord| match monitor {
        Monitor::ValidLoss => r.valid_loss,
        Monitor::ValidAccuracy => -r.valid_accuracy,
    };
    let mut best: Option<&EpochRecord> = None;
    for r in records.iter().filter(|r| !score(r).is_nan()) {
        if best.is_none_or(|b| score(r) < score(b)) {
            best = Some(r);
        }
    }
    best.map(|r| r.epoch)
}
