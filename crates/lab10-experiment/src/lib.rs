//! An experiment and where it computes, on Burn: experiment files and overrides (`config/`),
//! backends and devices (`runtime/`), the data a run reads, its model file and checkpoints,
//! test-set evaluation, saved models at work, a run's last step (`finish.rs`), command-line
//! targets and stop requests. The run folder itself is lab10-runs'. The library never prints.

mod checkpoint;
mod config;
mod data;
mod evaluate;
mod finish;
mod model;
mod runtime;
mod saved;
mod stop;
mod target;

pub use checkpoint::AtomicFileCheckpointer;
pub use config::experiment::{
    EarlyStopping, Experiment, ExperimentCatalog, Keep, Monitor, Overrides, TrainingConfig,
    reference_for, toml_stems,
};
pub use config::optimizer::{OptimizerConfig, OptimizerSettings, Schedule};
pub use config::pretrain::PretrainConfig;
pub use data::{DataOptions, Splits, load_splits, load_test};
pub use evaluate::{EVAL_BATCH, Evaluation, evaluate};
pub use finish::{Clock, Provenance, RunEnd, Trained};
pub use model::{load_model, save_model_atomically};
pub use runtime::backend::{BackendKind, ComputeDevice};
pub use runtime::compute::Compute;
pub use runtime::cpu::on_compute_pool;
pub use runtime::remote::{
    Access, REMOTE_FEATURE, RemoteTarget, Worker, WorkerUrl, new_token, read_token_file,
};
pub use saved::{Prediction, SavedModel, TestData, draw_digit, sample_predictions};
pub use stop::{Stop, WatchGuard};
pub use target::RunTargets;
