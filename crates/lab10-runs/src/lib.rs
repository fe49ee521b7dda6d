//! A run on disk, and everything needed to make one or read one back without training:
//! experiment files (`config/`), the backends (`runtime/`), the data a run reads (`data.rs`),
//! run folders with their locks, metrics, `report.json`, checkpoints and model files, the step
//! that finishes every run and the run a command-line name means (`store/`), evaluation
//! (`evaluate.rs`), saved models at work (`eval/`: evaluation, predictions, PyTorch export and
//! import), the error type and what a stop means (`error.rs`, `stop.rs`), and Markdown tables
//! (`markdown.rs`), and MLflow tracking over its REST API (`mlflow/`). lab10-train writes runs through this crate; the report, `lab10 serve` and
//! the CLI read them through it. The library never prints. `docs/layout.md` describes every
//! file; the modules import one another without circles (`scripts/check-module-cycles.py`).

mod config;
mod data;
mod error;
mod eval;
mod evaluate;
mod markdown;
pub mod mlflow;
mod runtime;
mod stop;
mod store;

pub use config::experiment::{
    Experiment, ExperimentCatalog, Overrides, TrainingConfig, reference_for, toml_stems,
};
pub use config::optimizer::{OptimizerConfig, OptimizerSettings};
pub use config::pretrain::PretrainConfig;
pub use data::{DataOptions, Splits, load_splits, load_test};
pub use error::{Error, Result};
pub use eval::interop::{export, import_run};
pub use eval::onnx::{self, OnnxFacts, export_onnx};
pub use eval::saved::{Prediction, SavedModel, TestData, draw_digit, sample_predictions};
pub use evaluate::{ClassAccuracy, EVAL_BATCH, Evaluation, evaluate};
pub use markdown::markdown_table;
pub use runtime::backend::{BackendKind, ComputeDevice};
pub use runtime::compute::Compute;
pub use runtime::cpu::on_compute_pool;
pub use runtime::remote::{
    Access, REMOTE_FEATURE, RemoteTarget, Worker, WorkerUrl, new_token, read_token_file,
};
pub use stop::{Stop, StopReason, WatchGuard};
pub use store::checkpoint::AtomicFileCheckpointer;
pub use store::finish::{Clock, DrawPictures, Pictures, Provenance, RunEnd, Trained};
pub use store::manifest::{MANIFEST_FILE, Manifest, Trust, read_checked, unverified_note};
pub use store::metrics::{self, EpochRecord, PretrainRecord};
pub use store::model::{load_model, save_model_atomically};
pub use store::report::{Interruption, Report, RunStatus, nan_if_null, utc_now, utc_stamp};
pub use store::run_dir::{
    CHECKPOINT_DIR, EXPERIMENT_FILE, MODEL_FILE, REPORT_FILE, RunDir, RunLock, create_unique_dir,
    dataset_root,
};
pub use store::target::RunTargets;
pub use store::tensorboard::{Board, TENSORBOARD_DIR};
pub use store::verify::{Health, health, result_folders};
