//! How `lab10` shows a run's progress: one plain line per event (on a terminal, Burn's TUI
//! shows the epochs instead), or with `--json` one JSON object per event. The events of a
//! group's members trained in child processes (src/jobs.rs) are shown by the same lines,
//! each with its member's label.

use std::io::IsTerminal;

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

    /// An event of a member trained in a child process: in JSON with its `member` label
    /// added, else its lines, each after "`label`: ". The data line is left out of the text:
    /// every member reads the same data, and the lines of members side by side interleave.
    pub fn member(&self, label: &str, event: &Event) {
        if self.json {
            let value = serde_json::to_value(event).expect("events serialise");
            println!("{}", labelled(value, label));
            return;
        }
        if matches!(event, Event::Data { .. }) {
            return;
        }
        let (stream, text) = text(event);
        let lines: Vec<String> = text
            .lines()
            .map(|line| format!("{label}: {line}"))
            .collect();
        stream.print(&lines.join("\n"));
    }

    /// A line of a member's output that is not an event (a stray line). In JSON a JSON object
    /// still gets its `member` label; anything else is passed on after the label.
    pub fn member_line(&self, label: &str, line: &str) {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(value) if self.json && value.is_object() => {
                println!("{}", labelled(value, label));
            }
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
            println!(
                "{}",
                serde_json::to_string(&event).expect("events serialise")
            );
            return;
        }
        // Burn's TUI shows the epochs on a terminal.
        if self.tui && matches!(event, Event::Epoch { .. }) {
            return;
        }
        let (stream, text) = text(&event);
        stream.print(&text);
    }
}

/// Where an event's text goes.
#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

impl Stream {
    fn print(self, text: &str) {
        match self {
            Stream::Out => println!("{text}"),
            Stream::Err => eprintln!("{text}"),
        }
    }
}

/// An event as text (one or more lines), and where it goes.
fn text(event: &Event) -> (Stream, String) {
    match event {
        Event::Data {
            record,
            train_images,
            valid_images,
            valid_label,
        } => (
            Stream::Out,
            format!(
                "data: {} - {} ({}) - {train_images} train, {valid_images} {valid_label} images",
                record.name,
                record.dir.display(),
                record.source,
            ),
        ),
        Event::RemovingIncomplete { file } => (
            Stream::Out,
            format!(
                "removing {} (its epoch's checkpoint is incomplete)",
                file.display()
            ),
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
            (
                Stream::Out,
                format!(
                    "run: {}\nbackend: {backend} - {device}\nmodel: {params} params; optimizer \
                     {optimizer}; batch {batch_size}; seed {seed}\n{start}",
                    run.display()
                ),
            )
        }
        Event::Pretraining { label } => (Stream::Out, format!("pre-training: {label}")),
        Event::PretrainEpoch {
            layer,
            layers,
            visible,
            hidden,
            epoch: 0,
            reconstruction_error,
            ..
        } => (
            Stream::Out,
            format!(
                "pretrain layer {layer}/{layers} ({visible} -> {hidden}): reconstruction error \
                 {reconstruction_error:.4} before"
            ),
        ),
        Event::PretrainEpoch {
            layer,
            layers,
            epoch,
            epochs,
            reconstruction_error,
            seconds,
            ..
        } => (
            Stream::Out,
            format!(
                "pretrain layer {layer}/{layers} epoch {epoch}/{epochs}: reconstruction error \
                 {reconstruction_error:.4} ({seconds:.1} s)"
            ),
        ),
        Event::Epoch {
            record: r,
            epochs,
            valid_label,
        } => (
            Stream::Out,
            format!(
                "epoch {:>2}/{epochs}  train loss {:.4} acc {:6.2}%  {valid_label} loss {:.4} acc \
                 {:6.2}%  {:.1} s",
                r.epoch,
                r.train_loss,
                r.train_accuracy,
                r.valid_loss,
                r.valid_accuracy,
                r.epoch_seconds
            ),
        ),
        Event::Tested {
            test_loss,
            test_accuracy,
            test_images,
            eval_seconds,
            run,
        } => (
            Stream::Out,
            format!(
                "test: loss {test_loss:.4}, accuracy {test_accuracy:.2}% on {test_images} images \
                 (evaluated in {eval_seconds:.2} s)\nsaved: {}",
                run.display()
            ),
        ),
        Event::Warning { message } => (Stream::Err, format!("warning: {message}")),
        Event::Member {
            label,
            reused: Some(reused),
        } => (
            Stream::Out,
            format!(
                "{label}: reusing {} ({:.2}%)",
                reused.run.display(),
                reused.test_accuracy
            ),
        ),
        Event::Member {
            label,
            reused: None,
        } => (Stream::Out, format!("{label}: training")),
    }
}

/// One line on stderr for a model or run that no manifest speaks for (see `lab10 verify`).
pub fn note_unverified(path: &std::path::Path) {
    if let Some(note) = lab10_runs::unverified_note(path) {
        eprintln!("{note}");
    }
}
