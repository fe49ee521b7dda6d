//! A run's per-epoch numbers from Burn's own hooks: [`EpochLogger`] (the learner's metric
//! logger) makes one [`EpochRecord`] per epoch for the [`History`] and its sinks; [`EpochClock`]
//! (its progress logger) keeps how far training got and each epoch's timings ([`Position`]).

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

/// How far training got: the epoch in progress (1-based), the images of it trained on, and
/// each epoch's timings (read by the [`EpochLogger`], from another thread and a little later).
#[derive(Clone, Default)]
pub(crate) struct Position {
    pub epoch: usize,
    pub items: usize,
    /// When this process's first training step finished (compilation and autotuning included).
    pub first_step_at: Option<Instant>,
    /// By epoch: when it started, and its training split's seconds once that ended.
    times: HashMap<usize, (Instant, Option<f64>)>,
}

impl Position {
    /// Epoch `epoch`'s training split's seconds and the whole epoch's so far.
    fn seconds(&self, epoch: usize) -> (f64, f64) {
        let Some((start, train)) = self.times.get(&epoch) else {
            return (f64::NAN, f64::NAN);
        };
        (train.unwrap_or(f64::NAN), start.elapsed().as_secs_f64())
    }
}

/// The epochs a run has finished, and the sinks each is handed to as it ends.
#[derive(Clone)]
pub(crate) struct History {
    records: Arc<Mutex<Vec<EpochRecord>>>,
    run: RunDir,
    sinks: Arc<Mutex<Vec<Box<dyn RunSink>>>>,
    /// Where a sink's failure is told (a warning: training goes on).
    progress: Arc<dyn Progress>,
}

impl History {
    /// `records`: a resumed run's epochs up to its checkpoint (later epochs are redone).
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

/// The learner's progress logger: the [`Position`], and under Burn's TUI Ctrl-C kept a signal.
pub(crate) struct EpochClock {
    /// The epoch in progress (1-based).
    epoch: usize,
    in_train_split: bool,
    position: Arc<Mutex<Position>>,
    tui: bool,
}

impl EpochClock {
    pub fn new(resumed_after: Option<usize>, position: Arc<Mutex<Position>>, tui: bool) -> Self {
        Self {
            epoch: resumed_after.unwrap_or(0) + 1,
            in_train_split: false,
            position,
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
            let mut at = self.position.lock().expect("position lock");
            at.epoch = self.epoch;
            at.items = 0;
            at.times.insert(self.epoch, (Instant::now(), None));
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
        if !self.in_train_split {
            return;
        }
        let mut at = self.position.lock().expect("position lock");
        if let Some((start, train)) = at.times.get_mut(&self.epoch) {
            *train = Some(start.elapsed().as_secs_f64());
        }
    }

    fn end(&mut self) {}

    fn log_event_training(&mut self, _: String) {}
}

/// Burn's TUI's raw mode makes Ctrl-C a key press, not SIGINT: the terminal's ISIG flag is
/// turned back on, as training goes (the TUI's thread enters raw mode on its own schedule).
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

/// An epoch's record before its numbers arrive: NaN until measured.
fn unmeasured() -> EpochRecord {
    EpochRecord {
        epoch: 0,
        train_loss: f64::NAN,
        train_accuracy: f64::NAN,
        valid_loss: f64::NAN,
        valid_accuracy: f64::NAN,
        train_seconds: f64::NAN,
        epoch_seconds: f64::NAN,
        learning_rate: f64::NAN,
        gradient_norms: Vec::new(),
    }
}

/// The learner's metric logger: a training loss that is not finite stops the learner
/// ([`Divergence`]); each epoch's final values become its record in the [`History`].
pub(crate) struct EpochLogger {
    names: HashMap<MetricId, String>,
    /// The epoch's values so far.
    values: EpochRecord,
    history: History,
    position: Arc<Mutex<Position>>,
    divergence: Divergence,
    interrupter: Interrupter,
}

impl EpochLogger {
    pub fn new(
        history: History,
        position: Arc<Mutex<Position>>,
        divergence: Divergence,
        interrupter: Interrupter,
    ) -> Self {
        Self {
            names: HashMap::new(),
            values: unmeasured(),
            history,
            position,
            divergence,
            interrupter,
        }
    }

    /// Epoch `epoch` (1-based) ended: its record, shown and kept.
    fn end_epoch(&mut self, epoch: usize) {
        let (train_seconds, epoch_seconds) = self.position.lock().expect("lock").seconds(epoch);
        self.history.push(EpochRecord {
            epoch,
            train_seconds,
            epoch_seconds,
            ..std::mem::replace(&mut self.values, unmeasured())
        });
    }
}

impl MetricLogger for EpochLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        let train = matches!(split, Split::Train);
        for numeric in update.entries_numeric {
            let name = self.names.get(&numeric.entry.metric_id);
            let (Some(name), Some(value)) = (name, numeric.numeric_entry) else {
                continue;
            };
            if train && name == "Loss" {
                self.divergence
                    .watch(value.current(), epoch, &self.interrupter);
            }
            if let NumericEntry::Final(value) = value {
                keep(&mut self.values, name, value, train);
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

/// Keeps the epoch's final value of a metric (burn-train sends it once, at split end).
fn keep(v: &mut EpochRecord, name: &str, value: f64, train: bool) {
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
        ("Learning Rate", true) => &mut v.learning_rate,
        _ => return,
    };
    *slot = value;
}
