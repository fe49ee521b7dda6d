//! What the learner shows while it trains. burn-train's default renderer is its TUI on a
//! terminal and, otherwise, a printer that dumps a debug line for every batch (600 an epoch).
//! [`EpochRenderer`] shows Burn's TUI when the caller's [`Progress`] asks for it, and otherwise
//! sends one [`Event::Epoch`] per epoch. Either way the [`EpochCollector`] sees every update
//! first; most methods below only hand the update on to the TUI, as Burn's traits require.

use std::sync::Arc;

use burn::train::LearnerSummary;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::MetricDefinition;
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

use super::epochs::EpochCollector;
use super::progress::{Event, Progress};

pub(crate) struct EpochRenderer {
    collector: EpochCollector,
    /// Burn's TUI, when the caller wants it.
    tui: Option<Box<dyn MetricsRenderer>>,
    progress: Arc<dyn Progress>,
    total_epochs: usize,
    valid_label: &'static str,
}

impl EpochRenderer {
    pub fn new(
        collector: EpochCollector,
        tui: Option<Box<dyn MetricsRenderer>>,
        progress: Arc<dyn Progress>,
        valid_label: &'static str,
    ) -> Self {
        Self {
            collector,
            tui,
            progress,
            total_epochs: 0,
            valid_label,
        }
    }
}

impl MetricsRendererTraining for EpochRenderer {
    fn update_train(&mut self, state: MetricState) {
        self.collector.update(&state, true);
        if let Some(t) = &mut self.tui {
            t.update_train(state);
        }
    }

    fn update_valid(&mut self, state: MetricState) {
        self.collector.update(&state, false);
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
        // Shown first, then written to the metrics files (whose warning, if any, follows).
        let record = self.collector.end_epoch(epoch);
        match &mut self.tui {
            Some(t) => t.update_epoch(epoch),
            None => self.progress.event(Event::Epoch {
                record: record.clone(),
                epochs: self.total_epochs,
                valid_label: self.valid_label.to_string(),
            }),
        }
        self.collector.keep(record, self.progress.as_ref());
    }

    fn start_split(&mut self, split: &str, total_items: usize) {
        self.collector.start_split(split);
        if let Some(t) = &mut self.tui {
            t.start_split(split, total_items);
        }
    }

    fn update_split(&mut self, items_processed: usize) {
        self.collector.update_split(items_processed);
        if let Some(t) = &mut self.tui {
            t.update_split(items_processed);
            keep_ctrl_c_a_signal();
        }
    }

    fn end_split(&mut self) {
        self.collector.end_split();
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
        self.collector.register(&definition);
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
