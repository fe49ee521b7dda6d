//! A run folder on disk: its layout and lock, metrics, report, checkpoints and model file, the
//! step that finishes every run (`finish.rs`: the saved model tested, `report.json` written),
//! and which run a command-line target names (`target.rs`). Every write is atomic (a temporary
//! file renamed into place).

pub mod checkpoint;
pub mod finish;
pub mod metrics;
pub mod model;
pub mod report;
pub mod run_dir;
pub mod target;
