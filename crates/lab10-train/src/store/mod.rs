//! A run folder on disk: its layout and lock, metrics, report, checkpoints and model file.
//! Every write is atomic (a temporary file renamed into place).

pub mod checkpoint;
pub mod metrics;
pub mod model;
pub mod report;
pub mod run_dir;
