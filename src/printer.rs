//! How `lab10` shows a run's progress: one plain line per event (on a terminal, Burn's TUI
//! shows the epochs instead), or with `--json` one JSON object per event.

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
}

impl Progress for Printer {
    fn tui(&self) -> bool {
        self.tui
    }

    fn event(&self, event: Event<'_>) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string(&event).expect("events serialise")
            );
            return;
        }
        match event {
            Event::Data {
                record,
                train_images,
                valid_images,
                valid_label,
            } => println!(
                "data: {} - {} ({}) - {train_images} train, {valid_images} {valid_label} images",
                record.name,
                record.dir.display(),
                record.source,
            ),
            Event::RemovingIncomplete { file } => println!(
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
                println!(
                    "run: {}\nbackend: {backend} - {device}\nmodel: {params} params; optimizer \
                     {optimizer}; batch {batch_size}; seed {seed}",
                    run.display()
                );
                match resumed_after {
                    Some(e) => println!("resuming after epoch {e} of {epochs}"),
                    None => println!("training {epochs} epochs"),
                }
            }
            Event::Pretraining { label } => println!("pre-training: {label}"),
            Event::PretrainEpoch {
                layer,
                layers,
                visible,
                hidden,
                epoch: 0,
                reconstruction_error,
                ..
            } => println!(
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
            } => println!(
                "pretrain layer {layer}/{layers} epoch {epoch}/{epochs}: reconstruction error \
                 {reconstruction_error:.4} ({seconds:.1} s)"
            ),
            Event::Epoch {
                record: r,
                epochs,
                valid_label,
            } => println!(
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
            } => println!(
                "test: loss {test_loss:.4}, accuracy {test_accuracy:.2}% on {test_images} images \
                 (evaluated in {eval_seconds:.2} s)\nsaved: {}",
                run.display()
            ),
            Event::Warning { message } => eprintln!("warning: {message}"),
            Event::Member {
                label,
                reused: Some(reused),
                ..
            } => println!(
                "{label}: reusing {} ({:.2}%)",
                reused.run.display(),
                reused.test_accuracy
            ),
            Event::Member {
                label,
                reused: None,
                on: None,
            } => println!("{label}: training"),
            Event::Member {
                label,
                reused: None,
                on: Some(slot),
            } => println!("{label}: training on {slot}"),
            Event::SlotLost {
                label,
                slot,
                message,
                run,
            } => eprintln!(
                "{label}: {message}\n  {slot} takes no more members; {label} goes back to the \
                 queue{}",
                run.map_or(String::new(), |r| format!(
                    " and continues {} from its last checkpoint, if it has one",
                    r.display()
                ))
            ),
        }
    }
}
