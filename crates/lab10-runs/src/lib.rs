//! The run store: a run folder on disk and its integrity, without Burn. Its layout and lock,
//! `SHA256SUMS` (every file recorded when written, checked when read), the per-epoch records
//! and `report.json`, a folder's health for `lab10 verify` (`store/`); the one error type of
//! lab10's libraries (`error.rs`), the trait every sink of a run's records implements
//! (`sink.rs`), why a process stopped (`stop.rs`), and Markdown tables
//! (`markdown.rs`). It knows no tensor, experiment type, tracker or picture: the crates that
//! train, track and report build on it. The library never prints.

mod error;
mod markdown;
mod sink;
mod stop;
mod store;

pub use error::{Error, Result};
pub use markdown::markdown_table;
pub use sink::{MetricsFiles, RunSink};
pub use stop::StopReason;
pub use store::manifest::{
    MANIFEST_FILE, Manifest, read_checked, read_if_recorded, unverified_note,
};
pub use store::metrics::{self, EpochRecord, PretrainRecord, valid_label};
pub use store::report::{
    ClassAccuracy, Interruption, Report, RunStatus, default_dataset, nan_if_null, utc_now,
    utc_stamp,
};
pub use store::run_dir::{
    CHECKPOINT_DIR, CHECKPOINT_PARTS, EXPERIMENT_FILE, MODEL_FILE, PRETRAIN_FILE, REPORT_FILE,
    RunDir, RunLock, create_unique_dir, dataset_root,
};
pub use store::verify::{Health, health, result_folders};
