//! Early stopping and the best epoch, through Burn's own strategies on the run's monitor. Burn
//! builds its stopping strategy fresh on a resume; [`EarlyStop`] replays the epochs before the
//! checkpoint first, so a resumed run stops where an uninterrupted one does.

use std::sync::{Arc, Mutex};

use burn::train::checkpoint::{
    ComposedCheckpointingStrategy, KeepLastNCheckpoints, MetricCheckpointingStrategy,
};
use burn::train::metric::store::{Aggregate, Direction, EventStoreClient, Split};
use burn::train::metric::{AccuracyMetric, LossMetric, Metric};
use burn::train::{EarlyStoppingStrategy, MetricEarlyStoppingStrategy, StoppingCondition};
use lab10_experiment::Monitor;
use lab10_runs::EpochRecord;

/// Burn's early stopping, and the epoch it stopped training at.
#[derive(Clone)]
pub(crate) struct EarlyStop {
    inner: MetricEarlyStoppingStrategy,
    /// Epochs to replay before the first decision (a resumed run's, up to its checkpoint).
    replay: usize,
    stopped_at: Arc<Mutex<Option<usize>>>,
}

impl EarlyStop {
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

/// Early stopping on `monitor` (with a `patience`), and checkpointing that keeps the last two
/// epochs and the best by `monitor`, so the best epoch's checkpoint is never deleted.
pub(crate) fn strategies(
    monitor: Monitor,
    patience: Option<usize>,
    resumed_after: Option<usize>,
) -> (Option<EarlyStop>, ComposedCheckpointingStrategy) {
    let (stopping, best) = match monitor {
        Monitor::ValidLoss => on_metric(&LossMetric::new(), Direction::Lowest, patience),
        Monitor::ValidAccuracy => on_metric(&AccuracyMetric::new(), Direction::Highest, patience),
    };
    let early = stopping.map(|inner| EarlyStop {
        inner,
        replay: resumed_after.unwrap_or(0),
        stopped_at: Arc::default(),
    });
    let keeping = ComposedCheckpointingStrategy::builder()
        .add(KeepLastNCheckpoints::new(2))
        .add(best)
        .build();
    (early, keeping)
}

fn on_metric<M: Metric>(
    metric: &M,
    direction: Direction,
    patience: Option<usize>,
) -> (
    Option<MetricEarlyStoppingStrategy>,
    MetricCheckpointingStrategy,
) {
    let stopping = patience.map(|n_epochs| {
        let condition = StoppingCondition::NoImprovementSince { n_epochs };
        MetricEarlyStoppingStrategy::new(
            metric,
            Aggregate::Mean,
            direction,
            Split::Valid,
            condition,
        )
    });
    let best = MetricCheckpointingStrategy::new(metric, Aggregate::Mean, direction, Split::Valid);
    (stopping, best)
}

/// The best epoch of `records` by `monitor`: the first best, as Burn's metric store finds it.
pub(crate) fn best_epoch(records: &[EpochRecord], monitor: Monitor) -> Option<usize> {
    let score = |r: &EpochRecord| match monitor {
        Monitor::ValidLoss => r.valid_loss,
        Monitor::ValidAccuracy => -r.valid_accuracy,
    };
    let scored = records.iter().filter(|r| !score(r).is_nan());
    scored
        .min_by(|a, b| score(a).total_cmp(&score(b)))
        .map(|r| r.epoch)
}
