//! Per-epoch metrics, written after every epoch as `metrics.csv` (with a header) and
//! `metrics.json`, so an interrupted run still has every finished epoch on disk.

use std::path::Path;

use lab10_data::atomic::write_atomically;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    // A diverged epoch's numbers are NaN, written as `null`.
    #[serde(deserialize_with = "crate::store::report::nan_if_null")]
    pub train_loss: f64,
    /// Percent, as burn-train's `AccuracyMetric` reports it.
    #[serde(deserialize_with = "crate::store::report::nan_if_null")]
    pub train_accuracy: f64,
    #[serde(deserialize_with = "crate::store::report::nan_if_null")]
    pub valid_loss: f64,
    #[serde(deserialize_with = "crate::store::report::nan_if_null")]
    pub valid_accuracy: f64,
    /// Wall time of the training pass.
    pub train_seconds: f64,
    /// Wall time of the whole epoch: training pass plus validation.
    pub epoch_seconds: f64,
    /// Mean |dLoss/dW| per layer over the epoch's steps (first hidden layer first), when the
    /// experiment records gradient norms; written as `grad_l1`, `grad_l2`, ... in the CSV.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gradient_norms: Vec<f64>,
}

const COLUMNS: [&str; 7] = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "valid_loss",
    "valid_accuracy",
    "train_seconds",
    "epoch_seconds",
];

fn csv_bytes(records: &[EpochRecord]) -> Vec<u8> {
    let layers = records
        .iter()
        .map(|r| r.gradient_norms.len())
        .max()
        .unwrap_or(0);
    let mut csv = csv::Writer::from_writer(Vec::new());
    let header = COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain((1..=layers).map(|l| format!("grad_l{l}")));
    csv.write_record(header).expect("in-memory CSV");
    for r in records {
        let fixed = [
            r.train_loss,
            r.train_accuracy,
            r.valid_loss,
            r.valid_accuracy,
            r.train_seconds,
            r.epoch_seconds,
        ];
        let row = std::iter::once(r.epoch.to_string())
            .chain(fixed.iter().map(f64::to_string))
            .chain((0..layers).map(|l| {
                r.gradient_norms
                    .get(l)
                    .map_or(String::new(), |g| format!("{g:e}"))
            }));
        csv.write_record(row).expect("in-memory CSV");
    }
    csv.into_inner().expect("in-memory CSV")
}

pub const CSV_FILE: &str = "metrics.csv";
pub const JSON_FILE: &str = "metrics.json";

pub fn write(dir: &Path, records: &[EpochRecord]) -> Result<()> {
    let bytes = csv_bytes(records);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: usize, gradient_norms: Vec<f64>) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss: 0.5,
            train_accuracy: 90.0,
            valid_loss: 0.25,
            valid_accuracy: 95.0,
            train_seconds: 1.5,
            epoch_seconds: 2.0,
            gradient_norms,
        }
    }

    #[test]
    fn csv_has_a_column_per_layer_only_when_norms_are_recorded() {
        let plain = String::from_utf8(csv_bytes(&[record(1, vec![])])).unwrap();
        assert_eq!(
            plain,
            "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,train_seconds,epoch_seconds\n\
             1,0.5,90,0.25,95,1.5,2\n"
        );
        let grads = String::from_utf8(csv_bytes(&[record(1, vec![1e-5, 0.25])])).unwrap();
        let lines: Vec<&str> = grads.lines().collect();
        assert!(
            lines[0].ends_with(",epoch_seconds,grad_l1,grad_l2"),
            "{grads}"
        );
        assert!(lines[1].ends_with(",2,1e-5,2.5e-1"), "{grads}");
        let empty = String::from_utf8(csv_bytes(&[])).unwrap();
        assert!(empty.starts_with("epoch,train_loss"), "{empty}");
    }
}
