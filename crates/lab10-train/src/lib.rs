//! Experiments (named TOML files), backends, training with burn-train's learner, evaluation,
//! and everything a run leaves under `artifacts/`.
//!
//! Models and data know nothing of this crate; the CLI is a thin layer over it.

pub mod backend;
pub mod checkpoint;
pub mod cpu;
pub mod ensemble;
pub mod error;
pub mod evaluate;
pub mod experiment;
pub mod gradient_norms;
pub mod group;
pub mod inference;
pub mod interop;
pub mod metrics;
pub mod optimizer;
pub mod pretrain;
pub mod renderer;
pub mod report;
pub mod run_dir;
pub mod stop;
pub mod training;

pub use backend::BackendKind;
pub use error::Error;
pub use evaluate::{ClassAccuracy, Evaluation, evaluate};
pub use experiment::{Experiment, ExperimentCatalog, OptimizerConfig, Overrides, TrainingConfig};
pub use inference::{Prediction, SavedModel, draw_digit, sample_predictions};
pub use metrics::EpochRecord;
pub use report::{Report, RunStatus};
pub use run_dir::RunDir;
pub use stop::{Stop, StopReason};
pub use training::{DataOptions, TrainOptions, train};
