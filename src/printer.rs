//! How `lab10` shows a run's progress: one plain line per event (on a terminal, Burn's TUI
//! shows the epochs instead), or with `--json` one JSON object per event.

use std::io::IsTerminal;
use std::path::Path;

use lab10_runs::unverified_note;
use lab10_train::{Event, Progress};

pub struct Printer {
    tui: bool,
    /// One JSON object per event (`--json`), for scripts and the tests.
    json: bool,
}

impl Printer {
    pub fn new(json: bool) -> Self {
        Self {
            tui: !json && std::io::stdout().is_terminal(),
            json,
        }
    }

    /// An event of a member trained in a child process, labelled. The data line is left out of
    /// the text: every member reads the same data.
    pub fn member(&self, label: &str, event: &Event) {
        if self.json {
            let value = serde_json::to_value(event).expect("events serialise");
            println!("{}", labelled(value, label));
        } else if !matches!(event, Event::Data { .. }) {
            let lines: Vec<String> = text(event)
                .lines()
                .map(|line| format!("{label}: {line}"))
                .collect();
            show(event, &lines.join("\n"));
        }
    }

    /// A line of a member's output that is not an event, labelled.
    pub fn member_line(&self, label: &str, line: &str) {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(value) if self.json && value.is_object() => println!("{}", labelled(value, label)),
            _ => println!("{label}: {line}"),
        }
    }
}

/// A member's JSON object with its `member` label added.
fn labelled(mut value: serde_json::Value, label: &str) -> serde_json::Value {
    value["member"] = label.into();
    value
}

impl Progress for Printer {
    fn tui(&self) -> bool {
        self.tui
    }

    fn event(&self, event: Event) {
        if self.json {
            let line = serde_json::to_string(&event).expect("events serialise");
            println!("{line}");
        } else if !(self.tui && matches!(event, Event::Epoch { .. })) {
            // (Burn's TUI shows the epochs on a terminal.)
            show(&event, &text(&event));
        }
    }
}

/// Prints an event's text: a warning on stderr, everything else on stdout.
fn show(event: &Event, text: &str) {
    if matches!(event, Event::Warning { .. }) {
        eprintln!("{text}");
    } else {
        println!("{text}");
    }
}

/// An event as text (one or more lines).
fn text(event: &Event) -> String {
    match event {
        Event::Data {
            record,
            train_images,
            valid_images,
            valid_label,
        } => format!(
            "data: {} - {} ({}) - {train_images} train, {valid_images} {valid_label} images",
            record.name,
            record.dir.display(),
            record.source,
        ),
        Event::RemovingIncomplete { file } => format!(
            "removing {} (its epoch's checkpoint is incomplete)",
            file.display()
        ),
        Event::Opened {
            run,
            backend,
            device,
            params,
            optimizer,
            batch_size,
            seed,
            epochs,
            resumed_after,
        } => {
            let start = match resumed_after {
                Some(e) => format!("resuming after epoch {e} of {epochs}"),
                None => format!("training {epochs} epochs"),
            };
            format!(
                "run: {}\nbackend: {backend} - {device}\nmodel: {params} params; optimizer \
                 {optimizer}; batch {batch_size}; seed {seed}\n{start}",
                run.display()
            )
        }
        Event::Pretraining { label } => format!("pre-training: {label}"),
        Event::PretrainEpoch {
            layer,
            layers,
            visible,
            hidden,
            epoch: 0,
            reconstruction_error,
            ..
        } => format!(
            "pretrain layer {layer}/{layers} ({visible} -> {hidden}): reconstruction error \
             {reconstruction_error:.4} before"
        ),
        Event::PretrainEpoch {
            layer,
            layers,
            epoch,
            epochs,
            reconstruction_error,
            seconds,
            ..
        } => format!(
            "pretrain layer {layer}/{layers} epoch {epoch}/{epochs}: reconstruction error \
             {reconstruction_error:.4} ({seconds:.1} s)"
        ),
        Event::Epoch {
            record: r,
            epochs,
            valid_label,
        } => format!(
            "epoch {:>2}/{epochs}  train loss {:.4} acc {:6.2}%  {valid_label} loss {:.4} acc \
             {:6.2}%  {:.1} s",
            r.epoch,
            r.train_loss,
            r.train_accuracy,
            r.valid_loss,
            r.valid_accuracy,
            r.epoch_seconds
        ),
        Event::Tested {
            test_loss,
            test_accuracy,
            test_images,
            eval_seconds,
            run,
        } => format!(
            "test: loss {test_loss:.4}, accuracy {test_accuracy:.2}% on {test_images} images \
             (evaluated in {eval_seconds:.2} s)\nsaved: {}",
            run.display()
        ),
        Event::Warning { message } => format!("warning: {message}"),
        Event::Member {
            label,
            reused: Some(reused),
        } => format!(
            "{label}: reusing {} ({:.2}%)",
            reused.run.display(),
            reused.test_accuracy
        ),
        Event::Member {
            label,
            reused: None,
        } => format!("{label}: training"),
    }
}

/// One line on stderr for each model or run that no manifest speaks for (see `lab10 verify`).
pub fn note_unverified(paths: impl IntoIterator<Item = impl AsRef<Path>>) {
    let notes = paths
        .into_iter()
        .filter_map(|p| unverified_note(p.as_ref()));
    notes.for_each(|note| eprintln!("{note}"));
}
