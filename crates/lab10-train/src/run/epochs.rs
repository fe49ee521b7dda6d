//! Where a run's per-epoch numbers come from: Burn's own hooks. [`EpochLogger`] is the
//! learner's `MetricLogger` (registered with `SupervisedTraining::with_metric_logger`): the one
//! place where "a metric was measured" is seen. It turns burn-train's metric updates into one
//! [`EpochRecord`] per epoch and hands it to the run's [`History`], which hands it to every
//! sink (the progress events, `metrics.csv` / `metrics.json`, TensorBoard, MLflow).
//! [`EpochClock`] is the learner's progress logger: how far training got ([`Position`]), how
//! long each epoch took, and, under Burn's TUI, Ctrl-C kept a signal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::Interrupter;
use burn::train::logger::{MetricLogger, TrainingProgressLogger};
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use lab10_runs::{EpochRecord, Error, Report, Result, RunDir, RunSink};

use super::divergence::Divergence;
use super::gradient_norms;
use super::progress::{Event, Progress};

/// How far training got: the epoch in progress (1-based) and the images of it trained on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Position {
    pub epoch: usize,
    pub items: usize,
    /// When the first training step of this process finished (kernel compilation and, on a GPU,
    /// autotuning included).
    pub first_step_at: Option<Instant>,
}

/// The epochs a run has finished, and the sinks each is handed to as it ends (`sinks` in
/// `run/mod.rs`: the progress events, the metrics files, TensorBoard, MLflow).
#[derive(Clone)]
pub(crate) struct History {
    records: Arc<Mutex<Vec<EpochRecord>>>,
    run: RunDir,
    sinks: Arc<Mutex<Vec<Box<dyn RunSink>>>>,
    /// Where a sink's failure is told (a warning: training goes on).
    progress: Arc<dyn Progress>,
}

impl History {
    /// `records`: a resumed run's epochs up to its checkpoint, as they were when it was saved
    /// (later epochs are redone).
    pub fn new(
        run: RunDir,
        records: Vec<EpochRecord>,
        sinks: Vec<Box<dyn RunSink>>,
        progress: Arc<dyn Progress>,
    ) -> Self {
        Self {
            records: Arc::new(Mutex::new(records)),
            run,
            sinks: Arc::new(Mutex::new(sinks)),
            progress,
        }
    }

    /// Adds (or replaces) an epoch's record and hands the records to every sink.
    fn push(&self, record: EpochRecord) {
        let mut records = self.records.lock().expect("history lock");
        records.retain(|r| r.epoch != record.epoch);
        records.push(record);
        self.each(|sink, run| sink.epoch(run, &records));
    }

    /// The run ended with `report` (written): every sink is told.
    pub fn end(&self, report: &Report) {
        let records = self.records();
        self.each(|sink, run| sink.end(run, &records, report));
    }

    /// The run ended with `error` before its report.
    pub fn failed(&self, error: &Error) {
        self.each(|sink, _| {
            sink.failed(error);
            Ok(())
        });
    }

    fn each(&self, mut f: impl FnMut(&mut dyn RunSink, &RunDir) -> Result<()>) {
        for sink in self.sinks.lock().expect("sinks lock").iter_mut() {
            if let Err(e) = f(sink.as_mut(), &self.run) {
                let message = e.to_string();
                self.progress.event(Event::Warning { message });
            }
        }
    }

    pub fn records(&self) -> Vec<EpochRecord> {
        self.records.lock().expect("history lock").clone()
    }

    pub fn last_epoch(&self) -> Option<usize> {
        self.records
            .lock()
            .expect("history lock")
            .last()
            .map(|r| r.epoch)
    }
}

/// The progress events as a sink: each epoch's record, shown.
pub(crate) struct ProgressSink {
    pub progress: Arc<dyn Progress>,
    pub total_epochs: usize,
    pub valid_label: &'static str,
}

impl RunSink for ProgressSink {
    fn epoch(&mut self, _: &RunDir, records: &[EpochRecord]) -> Result<()> {
        if let Some(record) = records.last() {
            self.progress.event(Event::Epoch {
                record: record.clone(),
                epochs: self.total_epochs,
                valid_label: self.valid_label.to_string(),
            });
        }
        Ok(())
    }
}

/// When each epoch started and how long its training split took, by epoch (1-based): written
/// by the [`EpochClock`], read by the [`EpochLogger`], which Burn calls from another thread
/// and a little later.
#[derive(Clone, Default)]
pub(crate) struct EpochTimes(Arc<Mutex<HashMap<usize, EpochTime>>>);

/// When an epoch started, and its training split's seconds once that ended.
type EpochTime = (Instant, Option<f64>);

impl EpochTimes {
    fn start(&self, epoch: usize) {
        let mut times = self.0.lock().expect("epoch times lock");
        times.insert(epoch, (Instant::now(), None));
    }

    fn end_training(&self, epoch: usize) {
        let mut times = self.0.lock().expect("epoch times lock");
        if let Some((start, train)) = times.get_mut(&epoch) {
            *train = Some(start.elapsed().as_secs_f64());
        }
    }

    /// The training split's seconds and the whole epoch's so far.
    fn seconds(&self, epoch: usize) -> (f64, f64) {
        let times = self.0.lock().expect("epoch times lock");
        times
            .get(&epoch)
            .map_or((f64::NAN, f64::NAN), |(start, train)| {
                (train.unwrap_or(f64::NAN), start.elapsed().as_secs_f64())
            })
    }
}

/// The learner's progress logger: the epoch in progress and the images of it trained on (for a
/// stop's report), each epoch's timings, and under Burn's TUI Ctrl-C kept a signal.
pub(crate) struct EpochClock {
    /// The epoch in progress (1-based).
    epoch: usize,
    in_train_split: bool,
    position: Arc<Mutex<Position>>,
    times: EpochTimes,
    tui: bool,
}

impl EpochClock {
    pub fn new(
        resumed_after: Option<usize>,
        position: Arc<Mutex<Position>>,
        times: EpochTimes,
        tui: bool,
    ) -> Self {
        Self {
            epoch: resumed_after.unwrap_or(0) + 1,
            in_train_split: false,
            position,
            times,
            tui,
        }
    }
}

impl TrainingProgressLogger for EpochClock {
    fn start(&mut self, _: usize, _: usize, _: Option<usize>, _: Option<&str>) {}

    fn update_epoch(&mut self, epoch: usize) {
        self.epoch = epoch + 1;
    }

    fn start_split(&mut self, split: &str, _: usize) {
        self.in_train_split = split.eq_ignore_ascii_case("train");
        if self.in_train_split {
            self.times.start(self.epoch);
            let mut at = self.position.lock().expect("position lock");
            at.epoch = self.epoch;
            at.items = 0;
        }
    }

    fn update_split(&mut self, items_processed: usize) {
        if self.in_train_split {
            let mut at = self.position.lock().expect("position lock");
            at.items = items_processed;
            at.first_step_at.get_or_insert_with(Instant::now);
        }
        if self.tui {
            keep_ctrl_c_a_signal();
        }
    }

    fn end_split(&mut self) {
        if self.in_train_split {
            self.times.end_training(self.epoch);
        }
    }

    fn end(&mut self) {}

    fn log_event_training(&mut self, _: String) {}
}

/// Burn's TUI puts the terminal in raw mode, where Ctrl-C is a key press, not SIGINT, and the
/// TUI only knows its own 'q' menu. Turning the terminal's ISIG flag back on (everything else
/// of raw mode stays) makes Ctrl-C stop training as it does without the TUI. Called as
/// training progresses, since the TUI's thread enters raw mode on its own schedule.
fn keep_ctrl_c_a_signal() {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let out = std::io::stdout();
    if let Ok(mut termios) = tcgetattr(&out)
        && !termios.local_modes.contains(LocalModes::ISIG)
    {
        termios.local_modes.insert(LocalModes::ISIG);
        let _ = tcsetattr(&out, OptionalActions::Now, &termios);
    }
}

#[derive(Default)]
struct EpochValues {
    train_loss: Option<f64>,
    train_accuracy: Option<f64>,
    valid_loss: Option<f64>,
    valid_accuracy: Option<f64>,
    /// Per layer, when gradient norms are recorded.
    gradient_norms: Vec<f64>,
}

/// The learner's metric logger: every metric burn-train measures passes here. A training loss
/// that is not finite stops the learner ([`Divergence`]); each epoch's final values become its
/// [`EpochRecord`], kept in the run's [`History`], which hands it to the run's sinks.
pub(crate) struct EpochLogger {
    names: HashMap<MetricId, String>,
    values: EpochValues,
    history: History,
    times: EpochTimes,
    divergence: Divergence,
    interrupter: Interrupter,
}

impl EpochLogger {
    pub fn new(
        history: History,
        times: EpochTimes,
        divergence: Divergence,
        interrupter: Interrupter,
    ) -> Self {
        Self {
            names: HashMap::new(),
            values: EpochValues::default(),
            history,
            times,
            divergence,
            interrupter,
        }
    }

    /// Keeps the epoch's final value of a metric (burn-train sends it once, at split end).
    fn keep(&mut self, name: &str, value: f64, train: bool) {
        let v = &mut self.values;
        if let Some(layer) = gradient_norms::layer_of(name) {
            if v.gradient_norms.len() <= layer {
                v.gradient_norms.resize(layer + 1, f64::NAN);
            }
            v.gradient_norms[layer] = value;
            return;
        }
        let slot = match (name, train) {
            ("Loss", true) => &mut v.train_loss,
            ("Accuracy", true) => &mut v.train_accuracy,
            ("Loss", false) => &mut v.valid_loss,
            ("Accuracy", false) => &mut v.valid_accuracy,
            _ => return,
        };
        *slot = Some(value);
    }

    /// Epoch `epoch` (1-based) ended: its record, shown and kept.
    fn end_epoch(&mut self, epoch: usize) {
        let v = std::mem::take(&mut self.values);
        let (train_seconds, epoch_seconds) = self.times.seconds(epoch);
        let record = EpochRecord {
            epoch,
            train_loss: v.train_loss.unwrap_or(f64::NAN),
            train_accuracy: v.train_accuracy.unwrap_or(f64::NAN),
            valid_loss: v.valid_loss.unwrap_or(f64::NAN),
            valid_accuracy: v.valid_accuracy.unwrap_or(f64::NAN),
            train_seconds,
            epoch_seconds,
            gradient_norms: v.gradient_norms,
        };
        self.history.push(record);
    }
}

impl MetricLogger for EpochLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        let train = matches!(split, Split::Train);
        for numeric in update.entries_numeric {
            let (Some(name), Some(value)) = (
                self.names.get(&numeric.entry.metric_id),
                numeric.numeric_entry,
            ) else {
                continue;
            };
            let name = name.clone();
            if train && name == "Loss" {
                self.divergence
                    .watch(value.current(), epoch, &self.interrupter);
            }
            if let NumericEntry::Final(value) = value {
                self.keep(&name, value, train);
            }
        }
    }

    /// The records are the run's files (metrics.json); Burn reads its own logger's.
    fn read_numeric(
        &mut self,
        name: &str,
        _: usize,
        _: &Split,
    ) -> std::result::Result<Vec<NumericEntry>, String> {
        Err(format!("lab10's epoch logger keeps no points of {name}"))
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id.clone(), definition.name.to_string());
    }

    /// The validation split ends an epoch.
    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        if matches!(summary.split, Split::Valid) {
            self.end_epoch(summary.epoch_number);
        }
    }
}
