//! A run folder on disk: its layout and lock, metrics, report, checkpoints and model file, the
//! step that finishes every run (`finish.rs`: the saved model tested, `report.json` written),
//! which run a command-line target names (`target.rs`), and the manifest every file is recorded in
//! and checked against when read (`manifest.rs`: `SHA256SUMS`; `verify.rs`: a whole folder checked), and TensorBoard's event file of a run (`tensorboard.rs`). Every write is atomic (a
//! temporary file renamed into place).

pub mod checkpoint;
pub mod finish;
pub mod manifest;
pub mod metrics;
pub mod model;
pub mod report;
pub mod run_dir;
pub mod target;
pub mod tensorboard;
pub mod verify;
