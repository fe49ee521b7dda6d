//! What a run tells its caller: the CLI passes a [`Progress`] and prints the events its way.

use std::path::PathBuf;

use lab10_data::DataRecord;
use lab10_runs::EpochRecord;
use serde::{Deserialize, Serialize};

/// Receives a run's events, in order. Shared with the learner's thread, hence `Sync`.
pub trait Progress: Send + Sync {
    fn event(&self, event: Event);

    /// Show Burn's TUI instead of [`Event::Epoch`] lines (the CLI says yes on a terminal).
    fn tui(&self) -> bool {
        false
    }
}

/// In JSON (`lab10 train --json`): `{"event": "opened", "run": ..., ...}`, one per line. The
/// same lines read back give the same events: a group's members trained in child processes
/// (`--jobs`) send theirs to the group this way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The data is loaded and verified.
    Data {
        record: DataRecord,
        train_images: usize,
        valid_images: usize,
        /// "test" when validating on the test set (the lesson's way), else "valid".
        valid_label: String,
    },
    /// A resumed run drops a checkpoint file that a failed save left incomplete.
    RemovingIncomplete { file: PathBuf },
    /// The run folder is ready and training is about to start.
    Opened {
        run: PathBuf,
        /// The local backend's name, or `remote` (then `device` names the worker).
        backend: String,
        device: String,
        params: usize,
        optimizer: String,
        batch_size: usize,
        seed: u64,
        epochs: usize,
        /// The last checkpointed epoch of a resumed run.
        resumed_after: Option<usize>,
    },
    /// RBM pre-training starts (the experiment's `[pretrain]`).
    Pretraining { label: String },
    /// One RBM before training (`epoch` 0) or after an epoch of it.
    PretrainEpoch {
        layer: usize,
        layers: usize,
        visible: usize,
        hidden: usize,
        epoch: usize,
        epochs: usize,
        #[serde(deserialize_with = "lab10_runs::nan_if_null")]
        reconstruction_error: f64,
        seconds: f64,
    },
    /// An epoch ended (sent while Burn's TUI shows the epochs too).
    Epoch {
        record: EpochRecord,
        epochs: usize,
        valid_label: String,
    },
    /// The finished model was tested; the run is complete.
    Tested {
        #[serde(deserialize_with = "lab10_runs::nan_if_null")]
        test_loss: f64,
        #[serde(deserialize_with = "lab10_runs::nan_if_null")]
        test_accuracy: f64,
        test_images: usize,
        eval_seconds: f64,
        run: PathBuf,
    },
    /// Something went wrong that does not stop the run (e.g. a metrics file not written).
    Warning { message: String },
    /// A group or ensemble member (`label`: "[i/n] experiment seed s"): reused from an earlier
    /// identical run (its folder and test accuracy), or about to be trained.
    Member {
        label: String,
        /// None when the member is trained.
        reused: Option<Reused>,
    },
}

/// A finished identical run a group or ensemble takes instead of training it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reused {
    pub run: PathBuf,
    pub test_accuracy: f64,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn record() -> EpochRecord {
        EpochRecord {
            epoch: 1,
            train_loss: 0.5,
            train_accuracy: 90.0,
            valid_loss: 0.25,
            valid_accuracy: 95.0,
            train_seconds: 1.5,
            epoch_seconds: 2.0,
            learning_rate: 0.001,
            gradient_norms: vec![],
        }
    }

    /// Every variant, with the fields docs/artifacts.md names for it (beside `event`).
    fn every_event() -> Vec<(Event, &'static [&'static str])> {
        let run = PathBuf::from("/artifacts/mnist/xavier/20250101T000000Z-flex-seed1");
        vec![
            (
                Event::Data {
                    record: DataRecord {
                        name: "mnist".into(),
                        dir: "/data/mnist".into(),
                        source: "--data-dir".into(),
                        sha256: [("t10k-labels-idx1-ubyte".to_string(), "ab12".to_string())].into(),
                    },
                    train_images: 60000,
                    valid_images: 10000,
                    valid_label: "test".into(),
                },
                &["record", "train_images", "valid_images", "valid_label"],
            ),
            (
                Event::RemovingIncomplete {
                    file: run.join("checkpoint/model-2.bpk"),
                },
                &["file"],
            ),
            (
                Event::Opened {
                    run: run.clone(),
                    backend: "remote".into(),
                    device: "flex on ws://127.0.0.1:3000".into(),
                    params: 269_322,
                    optimizer: "adam (lr 0.001)".into(),
                    batch_size: 128,
                    seed: 1,
                    epochs: 15,
                    resumed_after: Some(3),
                },
                &[
                    "run",
                    "backend",
                    "device",
                    "params",
                    "optimizer",
                    "batch_size",
                    "seed",
                    "epochs",
                    "resumed_after",
                ],
            ),
            (
                Event::Pretraining {
                    label: "2 RBMs, 5 epochs each".into(),
                },
                &["label"],
            ),
            (
                Event::PretrainEpoch {
                    layer: 1,
                    layers: 2,
                    visible: 784,
                    hidden: 512,
                    epoch: 3,
                    epochs: 5,
                    reconstruction_error: 0.125,
                    seconds: 4.5,
                },
                &[
                    "layer",
                    "layers",
                    "visible",
                    "hidden",
                    "epoch",
                    "epochs",
                    "reconstruction_error",
                    "seconds",
                ],
            ),
            (
                Event::Epoch {
                    record: EpochRecord {
                        gradient_norms: vec![1e-5, 0.25],
                        ..record()
                    },
                    epochs: 2,
                    valid_label: "valid".into(),
                },
                &["record", "epochs", "valid_label"],
            ),
            (
                Event::Tested {
                    test_loss: 0.0625,
                    test_accuracy: 97.5,
                    test_images: 10000,
                    eval_seconds: 0.75,
                    run: run.clone(),
                },
                &[
                    "test_loss",
                    "test_accuracy",
                    "test_images",
                    "eval_seconds",
                    "run",
                ],
            ),
            (
                Event::Warning {
                    message: "cannot write metrics.csv".into(),
                },
                &["message"],
            ),
            (
                Event::Member {
                    label: "[1/4] xavier seed 1".into(),
                    reused: Some(Reused {
                        run,
                        test_accuracy: 97.25,
                    }),
                },
                &["label", "reused"],
            ),
            (
                Event::Member {
                    label: "[2/4] xavier seed 2".into(),
                    reused: None,
                },
                &["label", "reused"],
            ),
        ]
    }

    #[test]
    fn every_event_reads_back_as_it_was_written() {
        for (event, _) in every_event() {
            let line = serde_json::to_string(&event).expect("serialises");
            let back: Event = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(back, event, "{line}");
        }
    }

    /// A diverged epoch's NaN is written as `null` and read back as NaN, so a member's line
    /// still reads as an event and prints "NaN".
    #[test]
    fn a_diverged_epoch_reads_back_with_nan() {
        let event = Event::Epoch {
            record: EpochRecord {
                train_loss: f64::NAN,
                valid_loss: f64::NAN,
                ..record()
            },
            epochs: 2,
            valid_label: "test".into(),
        };
        let line = serde_json::to_string(&event).expect("serialises");
        assert!(line.contains(r#""train_loss":null"#), "{line}");
        let Event::Epoch { record, .. } = serde_json::from_str(&line).expect("reads back") else {
            panic!("not an epoch: {line}");
        };
        assert!(record.train_loss.is_nan() && record.valid_loss.is_nan());
    }

    #[test]
    fn events_have_the_documented_names_and_fields() {
        let names = [
            "data",
            "removing-incomplete",
            "opened",
            "pretraining",
            "pretrain-epoch",
            "epoch",
            "tested",
            "warning",
            "member",
            "member",
        ];
        let events = every_event();
        assert_eq!(events.len(), names.len());
        for ((event, fields), name) in events.iter().zip(names) {
            let value = serde_json::to_value(event).expect("serialises");
            assert_eq!(value["event"], name, "{value}");
            let keys: BTreeSet<&str> = value
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            let expected: BTreeSet<&str> = fields.iter().copied().chain(["event"]).collect();
            assert_eq!(keys, expected, "{value}");
        }
    }

    #[test]
    fn a_line_is_written_field_by_field_as_the_docs_and_scripts_read_it() {
        let epoch = Event::Epoch {
            record: record(),
            epochs: 2,
            valid_label: "test".into(),
        };
        assert_eq!(
            serde_json::to_string(&epoch).unwrap(),
            "{\"event\":\"epoch\",\"record\":{\"epoch\":1,\"train_loss\":0.5,\
             \"train_accuracy\":90.0,\"valid_loss\":0.25,\"valid_accuracy\":95.0,\
             \"train_seconds\":1.5,\"epoch_seconds\":2.0,\"learning_rate\":0.001},\"epochs\":2,\
             \"valid_label\":\"test\"}"
        );
        let trained_here = Event::Member {
            label: "[1/2] xavier seed 1".into(),
            reused: None,
        };
        assert_eq!(
            serde_json::to_string(&trained_here).unwrap(),
            "{\"event\":\"member\",\"label\":\"[1/2] xavier seed 1\",\"reused\":null}"
        );
        let reused = Event::Member {
            label: "[2/2] xavier seed 2".into(),
            reused: Some(Reused {
                run: "/a/run".into(),
                test_accuracy: 97.25,
            }),
        };
        assert_eq!(
            serde_json::to_string(&reused).unwrap(),
            "{\"event\":\"member\",\"label\":\"[2/2] xavier seed 2\",\"reused\":{\"run\":\
             \"/a/run\",\"test_accuracy\":97.25}}"
        );
        // A member line without `on` reads back as trained here.
        let back: Event = serde_json::from_str(
            "{\"event\":\"member\",\"label\":\"[1/2] xavier seed 1\",\"reused\":null}",
        )
        .unwrap();
        assert_eq!(back, trained_here);
    }
}
