//! Per-epoch metrics, written after every epoch as `metrics.csv` (with a header) and
//! `metrics.json`, so an interrupted run still has every finished epoch on disk.

use std::path::Path;

use lab10_data::atomic::write_atomically;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    /// Percent, as burn-train's `AccuracyMetric` reports it.
    pub train_accuracy: f64,
    pub valid_loss: f64,
    pub valid_accuracy: f64,
    /// Wall time of the training pass.
    pub train_seconds: f64,
    /// Wall time of the whole epoch: training pass plus validation.
    pub epoch_seconds: f64,
}

pub const CSV_FILE: &str = "metrics.csv";
pub const JSON_FILE: &str = "metrics.json";

pub fn write(dir: &Path, records: &[EpochRecord]) -> Result<()> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    for r in records {
        csv.serialize(r).expect("in-memory CSV");
    }
    let mut bytes = csv.into_inner().expect("in-memory CSV");
    if records.is_empty() {
        bytes = b"epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,train_seconds,epoch_seconds\n".to_vec();
    }
    let csv_path = dir.join(CSV_FILE);
    write_atomically(&csv_path, &bytes).map_err(|e| Error::write(&csv_path, e))?;
    let json_path = dir.join(JSON_FILE);
    let json = serde_json::to_vec_pretty(records).expect("metrics serialise");
    write_atomically(&json_path, &json).map_err(|e| Error::write(&json_path, e))
}

/// The metrics of an earlier (possibly interrupted) run; empty if it wrote none.
pub fn read(dir: &Path) -> Result<Vec<EpochRecord>> {
    let path = dir.join(JSON_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Checkpoint {
            path,
            message: format!("unreadable metrics ({e})"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::read(path, e)),
    }
}
