//! What the learner shows while it trains, and where per-epoch numbers are collected.
//!
//! burn-train's default renderer is its TUI on a terminal and, otherwise, a printer that dumps
//! a debug line for every batch (600 a epoch). [`EpochRenderer`] keeps the TUI on a terminal,
//! prints one plain line per epoch otherwise, and in both cases hands an [`EpochRecord`] to
//! a sink at the end of every epoch (the sink writes `metrics.csv` / `metrics.json`).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::train::Interrupter;
use burn::train::LearnerSummary;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

use crate::gradient_norms;
use crate::metrics::EpochRecord;

pub type EpochSink = Box<dyn FnMut(EpochRecord) + Send>;

/// Set when the training loss stops being a finite number; training is then stopped at once.
pub type Divergence = Arc<Mutex<Option<String>>>;

/// How far training got: the epoch in progress (1-based) and the images of it trained on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub epoch: usize,
    pub items: usize,
    /// When the first training step of this process finished (kernel compilation and, on a GPU,
    /// autotuning included).
    pub first_step_at: Option<Instant>,
}

pub type SharedPosition = Arc<Mutex<Position>>;

#[derive(Default)]
struct EpochValues {
    train_loss: Option<f64>,
    train_accuracy: Option<f64>,
    valid_loss: Option<f64>,
    valid_accuracy: Option<f64>,
    /// Per layer, when gradient norms are recorded.
    gradient_norms: Vec<f64>,
}

pub struct EpochRenderer {
    /// Burn's TUI, when stdout is a terminal.
    tui: Option<Box<dyn MetricsRenderer>>,
    names: HashMap<MetricId, String>,
    values: EpochValues,
    total_epochs: usize,
    valid_label: String,
    epoch_start: Option<Instant>,
    train_seconds: f64,
    in_train_split: bool,
    /// The epoch in progress (1-based).
    epoch: usize,
    interrupter: Interrupter,
    divergence: Divergence,
    position: SharedPosition,
    sink: Mutex<EpochSink>,
}

impl EpochRenderer {
    /// `valid_label` names the validation split in the printed lines ("test" or "valid").
    pub fn new(
        interrupter: Interrupter,
        checkpoint: Option<usize>,
        valid_label: &str,
        sink: EpochSink,
        divergence: Divergence,
        position: SharedPosition,
    ) -> Self {
        let tui = std::io::stdout()
            .is_terminal()
            .then(|| burn::train::renderer::default_renderer(interrupter.clone(), checkpoint));
        Self {
            tui,
            names: HashMap::new(),
            values: EpochValues::default(),
            total_epochs: 0,
            valid_label: valid_label.to_string(),
            epoch_start: None,
            train_seconds: 0.0,
            in_train_split: false,
            epoch: checkpoint.unwrap_or(0) + 1,
            interrupter,
            divergence,
            position,
            sink: Mutex::new(sink),
        }
    }

    /// Stops training at the first non-finite training loss: every later step would be wasted,
    /// and the checkpoints of the epochs before it stay the last good ones.
    fn watch_for_divergence(&mut self, state: &MetricState) {
        let MetricState::Numeric(entry, Some(value)) = state else {
            return;
        };
        let loss = value.current();
        if loss.is_finite() || self.names.get(&entry.metric_id).map(String::as_str) != Some("Loss")
        {
            return;
        }
        let mut divergence = self.divergence.lock().expect("divergence lock");
        if divergence.is_none() {
            let message = format!("the training loss became {loss} in epoch {}", self.epoch);
            self.interrupter.stop(Some(&message));
            *divergence = Some(message);
        }
    }

    /// Keeps the epoch's final value of each metric (burn-train sends it once, at split end).
    fn record(&mut self, state: &MetricState, train: bool) {
        let MetricState::Numeric(entry, Some(NumericEntry::Final(value))) = state else {
            return;
        };
        let Some(name) = self.names.get(&entry.metric_id) else {
            return;
        };
        let v = &mut self.values;
        if let Some(layer) = gradient_norms::layer_of(name) {
            if v.gradient_norms.len() <= layer {
                v.gradient_norms.resize(layer + 1, f64::NAN);
            }
            v.gradient_norms[layer] = *value;
            return;
        }
        let slot = match (name.as_str(), train) {
            ("Loss", true) => &mut v.train_loss,
            ("Accuracy", true) => &mut v.train_accuracy,
            ("Loss", false) => &mut v.valid_loss,
            ("Accuracy", false) => &mut v.valid_accuracy,
            _ => return,
        };
        *slot = Some(*value);
    }
}

impl MetricsRendererTraining for EpochRenderer {
    fn update_train(&mut self, state: MetricState) {
        self.watch_for_divergence(&state);
        self.record(&state, true);
        if let Some(t) = &mut self.tui {
            t.update_train(state);
        }
    }

    fn update_valid(&mut self, state: MetricState) {
        self.record(&state, false);
        if let Some(t) = &mut self.tui {
            t.update_valid(state);
        }
    }

    fn on_train_end(
        &mut self,
        summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn core::error::Error>> {
        match &mut self.tui {
            Some(t) => t.on_train_end(summary),
            None => Ok(()),
        }
    }
}

impl TrainingProgressLogger for EpochRenderer {
    fn start(
        &mut self,
        total_epochs: usize,
        starting_epoch: usize,
        total_items: Option<usize>,
        label: Option<&str>,
    ) {
        self.total_epochs = total_epochs;
        if let Some(t) = &mut self.tui {
            t.start(total_epochs, starting_epoch, total_items, label);
        }
    }

    fn update_epoch(&mut self, epoch: usize) {
        self.epoch = epoch + 1;
        let v = std::mem::take(&mut self.values);
        let record = EpochRecord {
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
        };
        match &mut self.tui {
            Some(t) => t.update_epoch(epoch),
            None => println!(
                "epoch {:>2}/{}  train loss {:.4} acc {:6.2}%  {} loss {:.4} acc {:6.2}%  {:.1} s",
                record.epoch,
                self.total_epochs,
                record.train_loss,
                record.train_accuracy,
                self.valid_label,
                record.valid_loss,
                record.valid_accuracy,
                record.epoch_seconds
            ),
        }
        (self.sink.lock().expect("sink lock"))(record);
    }

    fn start_split(&mut self, split: &str, total_items: usize) {
        self.in_train_split = split.eq_ignore_ascii_case("train");
        if self.in_train_split {
            self.epoch_start = Some(Instant::now());
            let mut at = self.position.lock().expect("position lock");
            at.epoch = self.epoch;
            at.items = 0;
        }
        if let Some(t) = &mut self.tui {
            t.start_split(split, total_items);
        }
    }

    fn update_split(&mut self, items_processed: usize) {
        if self.in_train_split {
            let mut at = self.position.lock().expect("position lock");
            at.items = items_processed;
            at.first_step_at.get_or_insert_with(Instant::now);
        }
        if let Some(t) = &mut self.tui {
            t.update_split(items_processed);
            keep_ctrl_c_a_signal();
        }
    }

    fn end_split(&mut self) {
        if self.in_train_split {
            self.train_seconds = self
                .epoch_start
                .map_or(f64::NAN, |s| s.elapsed().as_secs_f64());
        }
        if let Some(t) = &mut self.tui {
            t.end_split();
        }
    }

    fn end(&mut self) {
        if let Some(t) = &mut self.tui {
            t.end();
        }
    }

    fn log_event_training(&mut self, event: String) {
        // "Iteration" arrives once per batch; only the TUI wants it.
        if let Some(t) = &mut self.tui {
            t.log_event_training(event);
        }
    }
}

impl EvaluationProgressLogger for EpochRenderer {
    fn start_global_progress(&mut self, total_tests: usize) {
        if let Some(t) = &mut self.tui {
            t.start_global_progress(total_tests);
        }
    }

    fn start_test(&mut self, name: &str, total_items: usize) {
        if let Some(t) = &mut self.tui {
            t.start_test(name, total_items);
        }
    }

    fn update_test_progress(&mut self, items_processed: usize) {
        if let Some(t) = &mut self.tui {
            t.update_test_progress(items_processed);
        }
    }

    fn end_test(&mut self) {
        if let Some(t) = &mut self.tui {
            t.end_test();
        }
    }

    fn end_global_progress(&mut self) {
        if let Some(t) = &mut self.tui {
            t.end_global_progress();
        }
    }

    fn log_event_evaluation(&mut self, event: String) {
        if let Some(t) = &mut self.tui {
            t.log_event_evaluation(event);
        }
    }
}

impl MetricsRendererEvaluation for EpochRenderer {
    fn update_test(&mut self, name: EvaluationName, state: MetricState) {
        if let Some(t) = &mut self.tui {
            t.update_test(name, state);
        }
    }
}

impl MetricsRenderer for EpochRenderer {
    fn manual_close(&mut self) {
        if let Some(t) = &mut self.tui {
            t.manual_close();
        }
    }

    fn register_metric(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id.clone(), definition.name.to_string());
        if let Some(t) = &mut self.tui {
            t.register_metric(definition);
        }
    }
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
