//! An experiment and where it computes, on Burn: experiment files and their overrides
//! (`config/`: the models, optimisers and training settings), the backends and devices
//! (`runtime/`: local backends, `lab10 worker` and `--remote`), the data a run reads
//! (`data.rs`), a run's model file and checkpoints (`model.rs`, `checkpoint.rs`), test-set
//! evaluation (`evaluate.rs`, for `train` and `eval` alike), saved models at work (`saved.rs`),
//! a run's last step (`finish.rs`: the saved model tested, the report made), which run a
//! command-line target means (`target.rs`), and what a stop request means (`stop.rs`). The
//! run folder itself is lab10-runs'. The library never prints.

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
