//! Experiments (named TOML files), backends, training with burn-train's learner, evaluation,
//! and everything a run leaves under `artifacts/`. Models and data know nothing of this crate;
//! the CLI is a thin layer over it. The library never prints: a run reports to the
//! [`Progress`] its caller passes in.
//!
//! Where things are, by job:
//! - `config/`: an experiment file (`experiment.rs`), its optimiser (`optimizer/`, one file per
//!   optimiser) and RBM pre-training (`pretrain.rs`).
//! - `runtime/`: the backends (`backend.rs`, the one file that names them), CPU threads
//!   (`cpu.rs`), and workers on other machines (`remote.rs`: `lab10 worker`, `--remote`).
//! - `run/`: one training run (`mod.rs`: [`train`] as a sequence of steps), its data, progress
//!   events, per-epoch collection, display, divergence, stop requests, gradient norms.
//! - `store/`: a run folder on disk: folders and locks, metrics, `report.json`, checkpoints,
//!   the model file.
//! - `eval/`: evaluating and predicting with saved models, safetensors export and import.
//! - `studies/`: groups (experiments x seeds) and ensembles, with what they share, and
//!   `parallel.rs`: their members side by side on workers or local processes.
//! - `markdown.rs`: the Markdown tables summaries and reports write.

mod config;
mod error;
mod eval;
mod markdown;
mod run;
mod runtime;
mod store;
mod studies;

pub use config::experiment::{
    Experiment, ExperimentCatalog, Overrides, TrainingConfig, reference_for,
};
pub use config::optimizer::{Optimiser, OptimizerConfig};
pub use error::{Error, Result};
pub use eval::evaluate::{ClassAccuracy, Evaluation, evaluate};
pub use eval::interop::{export, import_run};
pub use eval::saved::{Prediction, SavedModel, draw_digit, sample_predictions};
pub use markdown::markdown_table;
pub use run::{
    DataOptions, Event, Progress, Reused, Stop, StopReason, TrainOptions, TrainOutcome, train,
};
pub use runtime::backend::{BackendKind, Compute, ComputeDevice};
pub use runtime::cpu::on_compute_pool;
pub use runtime::remote::{
    Access, REMOTE_FEATURE, RemoteTarget, Worker, WorkerUrl, catch_loss as catch_worker_loss,
    new_token, read_token_file,
};
pub use store::metrics::{self, EpochRecord};
pub use store::report::{Report, RunStatus};
pub use store::run_dir::{REPORT_FILE, RunDir, dataset_root};
pub use studies::ensemble::{
    EnsembleOptions, EnsembleReport, average, probabilities, run_ensemble, score,
};
pub use studies::group::{GroupOptions, GroupSummary, get_group, group_names, run_group};
pub use studies::parallel::{MemberSlots, SlotFailure};
