//! Experiments (named TOML files), backends, training with burn-train's learner, evaluation,
//! and everything a run leaves under `artifacts/`. Models and data know nothing of this crate;
//! the CLI is a thin layer over it. The library never prints: a run reports to the
//! [`Progress`] its caller passes in.
//!
//! The modules, by job: `config/` (what an experiment says), `runtime/` (where it computes),
//! `run/` (one training run: [`train`]), `store/` (a run folder on disk), `eval/` (saved models
//! at work), `studies/` (groups and ensembles); `evaluate.rs`, `stop.rs` and `markdown.rs` serve
//! several of them. `docs/layout.md` describes every file. The modules import one another
//! without circles (`scripts/check-module-cycles.py`).

mod config;
mod error;
mod eval;
mod evaluate;
mod markdown;
mod run;
mod runtime;
mod stop;
mod store;
mod studies;

pub use config::experiment::{
    Experiment, ExperimentCatalog, Overrides, TrainingConfig, reference_for,
};
pub use config::optimizer::{Optimiser, OptimizerConfig};
pub use error::{Error, Result};
pub use eval::interop::{export, import_run};
pub use eval::saved::{Prediction, SavedModel, draw_digit, sample_predictions};
pub use evaluate::{ClassAccuracy, Evaluation, evaluate};
pub use markdown::markdown_table;
pub use run::{DataOptions, Event, Progress, Reused, TrainOptions, TrainOutcome, train};
pub use runtime::backend::{BackendKind, ComputeDevice};
pub use runtime::compute::Compute;
pub use runtime::cpu::on_compute_pool;
pub use runtime::remote::{
    Access, REMOTE_FEATURE, RemoteTarget, Worker, WorkerUrl, catch_loss as catch_worker_loss,
    new_token, read_token_file,
};
pub use stop::{Stop, StopReason};
pub use store::metrics::{self, EpochRecord};
pub use store::report::{Report, RunStatus};
pub use store::run_dir::{REPORT_FILE, RunDir, dataset_root};
pub use studies::ensemble::{
    EnsembleOptions, EnsembleReport, average, probabilities, run_ensemble, score,
};
pub use studies::group::{GroupOptions, GroupSummary, get_group, group_names, run_group};
pub use studies::parallel::{MemberSlots, SlotFailure};
