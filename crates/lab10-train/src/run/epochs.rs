//! Where a run's per-epoch numbers are collected: the metrics burn-train reports become one
//! [`EpochRecord`] per epoch, kept in the run's [`History`] (`metrics.csv` / `metrics.json`),
//! and how far training got is kept in a [`Position`]. Display is the renderer's job.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::Interrupter;
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::MetricState;
use lab10_runs::{EpochRecord, Result, metrics};

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

/// The epochs a run has finished, written to the run folder after each one.
#[derive(Clone)]
pub(crate) struct History {
    records: Arc<Mutex<Vec<EpochRecord>>>,
    dir: PathBuf,
}

impl History {
    /// The run's records up to `last_checkpoint` (later epochs are redone, so dropped).
    pub fn resume(dir: PathBuf, last_checkpoint: Option<usize>) -> Result<Self> {
        let mut records = metrics::read(&dir)?;
        records.retain(|r| Some(r.epoch) <= last_checkpoint);
        Ok(Self {
            records: Arc::new(Mutex::new(records)),
            dir,
        })
    }

    /// Adds (or replaces) an epoch's record and rewrites the metrics files.
    fn push(&self, record: EpochRecord, progress: &dyn Progress) {
        let mut records = self.records.lock().expect("history lock");
        records.retain(|r| r.epoch != record.epoch);
        records.push(record);
        if let Err(e) = metrics::write(&self.dir, &records) {
            progress.event(Event::Warning {
                message: e.to_string(),
            });
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

#[derive(Default)]
struct EpochValues {
    train_loss: Option<f64>,
    train_accuracy: Option<f64>,
    valid_loss: Option<f64>,
    valid_accuracy: Option<f64>,
    /// Per layer, when gradient norms are recorded.
    gradient_norms: Vec<f64>,
}

/// Turns burn-train's metric updates and progress into epoch records and a position.
pub(crate) struct EpochCollector {
    names: HashMap<MetricId, String>,
    values: EpochValues,
    epoch_start: Option<Instant>,
    train_seconds: f64,
    in_train_split: bool,
    /// The epoch in progress (1-based).
    epoch: usize,
    history: History,
    position: Arc<Mutex<Position>>,
    divergence: Divergence,
    interrupter: Interrupter,
}

impl EpochCollector {
    pub fn new(
        history: History,
        resumed_after: Option<usize>,
        position: Arc<Mutex<Position>>,
        divergence: Divergence,
        interrupter: Interrupter,
    ) -> Self {
        Self {
            names: HashMap::new(),
            values: EpochValues::default(),
            epoch_start: None,
            train_seconds: 0.0,
            in_train_split: false,
            epoch: resumed_after.unwrap_or(0) + 1,
            history,
            position,
            divergence,
            interrupter,
        }
    }

    pub fn register(&mut self, definition: &MetricDefinition) {
        self.names
            .insert(definition.metric_id.clone(), definition.name.to_string());
    }

    /// A metric update of the training (`train`) or validation split.
    pub fn update(&mut self, state: &MetricState, train: bool) {
        let MetricState::Numeric(entry, Some(value)) = state else {
            return;
        };
        let Some(name) = self.names.get(&entry.metric_id) else {
            return;
        };
        if train && name == "Loss" {
            self.divergence
                .watch(value.current(), self.epoch, &self.interrupter);
        }
        // Keep the epoch's final value of each metric (burn-train sends it once, at split end).
        let &NumericEntry::Final(value) = value else {
            return;
        };
        let v = &mut self.values;
        if let Some(layer) = gradient_norms::layer_of(name) {
            if v.gradient_norms.len() <= layer {
                v.gradient_norms.resize(layer + 1, f64::NAN);
            }
            v.gradient_norms[layer] = value;
            return;
        }
        let slot = match (name.as_str(), train) {
            ("Loss", true) => &mut v.train_loss,
            ("Accuracy", true) => &mut v.train_accuracy,
            ("Loss", false) => &mut v.valid_loss,
            ("Accuracy", false) => &mut v.valid_accuracy,
            _ => return,
        };
        *slot = Some(value);
    }

    pub fn start_split(&mut self, split: &str) {
        self.in_train_split = split.eq_ignore_ascii_case("train");
        if self.in_train_split {
            self.epoch_start = Some(Instant::now());
            let mut at = self.position.lock().expect("position lock");
            at.epoch = self.epoch;
            at.items = 0;
        }
    }

    pub fn update_split(&mut self, items_processed: usize) {
        if self.in_train_split {
            let mut at = self.position.lock().expect("position lock");
            at.items = items_processed;
            at.first_step_at.get_or_insert_with(Instant::now);
        }
    }

    pub fn end_split(&mut self) {
        if self.in_train_split {
            self.train_seconds = self
                .epoch_start
                .map_or(f64::NAN, |s| s.elapsed().as_secs_f64());
        }
    }

    /// Epoch `epoch` (1-based) ended: its record (see [`Self::keep`]).
    pub fn end_epoch(&mut self, epoch: usize) -> EpochRecord {
        self.epoch = epoch + 1;
        let v = std::mem::take(&mut self.values);
        EpochRecord {
            epoch,
            train_loss: v.train_loss.unwrap_or(f64::NAN),
            train_accuracy: v.train_accuracy.unwrap_or(f64::NAN),
            valid_loss: v.valid_loss.unwrap_or(f64::NAN),
            valid_accuracy: v.valid_accuracy.unwrap_or(f64::NAN),
            train_seconds: self.train_seconds,
            epoch_seconds: self
                .epoch_start
                .take()
                .map_or(f64::NAN, |s| s.elapsed().as_secs_f64()),
            gradient_norms: v.gradient_norms,
        }
    }

    /// Adds an ended epoch's record to the history (and the run's metrics files).
    pub fn keep(&self, record: EpochRecord, progress: &dyn Progress) {
        self.history.push(record, progress);
    }
}
