//! What a run tells its caller as it goes. The library never prints: the CLI passes a
//! [`Progress`] in [`TrainOptions`](super::TrainOptions) and prints the events its own way.

use std::path::Path;

use lab10_data::DataRecord;
use lab10_runs::EpochRecord;

/// Receives a run's events, in order. Shared with the learner's thread, hence `Sync`.
pub trait Progress: Send + Sync {
    fn event(&self, event: Event<'_>);

    /// Show Burn's TUI instead of [`Event::Epoch`] lines (the CLI says yes on a terminal).
    fn tui(&self) -> bool {
        false
    }
}

/// In JSON (`lab10 train --json`): `{"event": "opened", "run": ..., ...}`, one per line.
#[derive(Debug, serde::Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event<'a> {
    /// The data is loaded and verified.
    Data {
        record: &'a DataRecord,
        train_images: usize,
        valid_images: usize,
        /// "test" when validating on the test set (the lesson's way), else "valid".
        valid_label: &'a str,
    },
    /// A resumed run drops a checkpoint file that a failed save left incomplete.
    RemovingIncomplete { file: &'a Path },
    /// The run folder is ready and training is about to start.
    Opened {
        run: &'a Path,
        /// The local backend's name, or `remote` (then `device` names the worker).
        backend: &'a str,
        device: &'a str,
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
        reconstruction_error: f64,
        seconds: f64,
    },
    /// An epoch ended (not sent while Burn's TUI shows the epochs).
    Epoch {
        record: &'a EpochRecord,
        epochs: usize,
        valid_label: &'a str,
    },
    /// The finished model was tested; the run is complete.
    Tested {
        test_loss: f64,
        test_accuracy: f64,
        test_images: usize,
        eval_seconds: f64,
        run: &'a Path,
    },
    /// Something went wrong that does not stop the run (e.g. a metrics file not written).
    Warning { message: String },
    /// A group or ensemble member (`label`: "[i/n] experiment seed s"): reused from an earlier
    /// identical run (its folder and test accuracy), or about to be trained.
    Member {
        label: &'a str,
        /// None when the member is trained.
        reused: Option<Reused<'a>>,
        /// Where it trains, when a study spreads its members (`--workers`, `--jobs`).
        #[serde(skip_serializing_if = "Option::is_none")]
        on: Option<&'a str>,
    },
    /// A worker failed while training a member (unreachable, refused, gone): the worker takes
    /// no more members, and the member goes back to the queue, to continue from its run's last
    /// checkpoint (`run`) on another worker.
    SlotLost {
        label: &'a str,
        slot: &'a str,
        message: &'a str,
        run: Option<&'a Path>,
    },
}

/// A finished identical run a group or ensemble takes instead of training it again.
#[derive(Debug, serde::Serialize)]
pub struct Reused<'a> {
    pub run: &'a Path,
    pub test_accuracy: f64,
}
