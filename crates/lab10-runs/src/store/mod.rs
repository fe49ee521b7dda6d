//! A run folder on disk: its layout and lock (`run_dir.rs`), its metrics (`metrics.rs`), its
//! `report.json` (`report.rs`), and the manifest every file is recorded in and checked against
//! when read (`manifest.rs`: `SHA256SUMS`; `verify.rs`: a whole folder checked). Every write is
//! atomic (a temporary file renamed into place).

pub mod manifest;
pub mod metrics;
pub mod report;
pub mod run_dir;
pub mod verify;
