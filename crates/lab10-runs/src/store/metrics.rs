//! Per-epoch metrics, written after every epoch as `metrics.csv` (with a header) and
//! `metrics.json`, so an interrupted run still has every finished epoch on disk, and as a
//! snapshot beside each checkpoint (what a resume reads).

use std::path::Path;

use lab10_data::atomic::write_atomically;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::manifest::{read_checked, read_if_recorded};
use crate::store::run_dir::{CHECKPOINT_DIR, PRETRAIN_FILE, RunDir};

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
    /// The learning rate, averaged over the epoch's steps (Burn's `LearningRateMetric`): the
    /// schedule's rate (NaN in runs recorded before lab10 kept it).
    #[serde(
        default = "nan",
        deserialize_with = "crate::store::report::nan_if_null"
    )]
    pub learning_rate: f64,
    /// Mean |dLoss/dW| per layer over the epoch's steps (first hidden layer first), when the
    /// experiment records gradient norms; written as `grad_l1`, `grad_l2`, ... in the CSV.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gradient_norms: Vec<f64>,
}

fn nan() -> f64 {
    f64::NAN
}

const COLUMNS: [&str; 8] = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "valid_loss",
    "valid_accuracy",
    "train_seconds",
    "epoch_seconds",
    "learning_rate",
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
            r.learning_rate,
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

/// One line of `pretrain.csv`: an RBM pre-training epoch of one layer (1-based both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PretrainRecord {
    pub layer: usize,
    pub epoch: usize,
    /// Mean squared reconstruction error on a fixed probe of training images.
    pub reconstruction_error: f64,
    pub seconds: f64,
}

/// Writes the run's pre-training log (`pretrain.csv`, recorded at once: it is written once,
/// before training).
pub fn write_pretrain(run: &RunDir, records: &[PretrainRecord]) -> Result<()> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    for r in records {
        csv.serialize(r).expect("in-memory CSV");
    }
    run.write(PRETRAIN_FILE, &csv.into_inner().expect("in-memory CSV"))
}

/// The run's pre-training log (checked); empty for a run without pre-training, or whose log
/// its manifest does not list (an earlier lab10 recorded it only when the run finished).
pub fn read_pretrain(run: &RunDir) -> Result<Vec<PretrainRecord>> {
    let path = run.file(PRETRAIN_FILE);
    let Some(bytes) = read_if_recorded(&path)? else {
        return Ok(Vec::new());
    };
    csv::Reader::from_reader(&bytes[..])
        .deserialize()
        .collect::<std::result::Result<Vec<PretrainRecord>, _>>()
        .map_err(|e| Error::Damaged {
            path,
            message: format!("not a pre-training log ({e})"),
        })
}

/// The split the per-epoch evaluation runs on: "test" (the lesson's way), or "valid" for a
/// `holdout` of the training images.
pub fn valid_label(holdout: usize) -> &'static str {
    match holdout {
        0 => "test",
        _ => "valid",
    }
}

pub const CSV_FILE: &str = "metrics.csv";
pub const JSON_FILE: &str = "metrics.json";

/// Writes the metrics of the epochs so far: `metrics.csv` and `metrics.json` for whoever watches
/// the run (atomically; recorded in the manifest when the run finishes, since they change every
/// epoch), and `checkpoint/metrics-<epoch>.json`, written once and recorded at once, which a
/// resume from that epoch's checkpoint reads back (checked).
pub fn write(run: &RunDir, records: &[EpochRecord]) -> Result<()> {
    let json = serde_json::to_vec_pretty(records).expect("metrics serialise");
    for (name, bytes) in [(CSV_FILE, csv_bytes(records)), (JSON_FILE, json.clone())] {
        let path = run.file(name);
        write_atomically(&path, &bytes).map_err(|e| Error::write(&path, e))?;
    }
    let Some(epoch) = records.iter().map(|r| r.epoch).max() else {
        return Ok(());
    };
    let dir = run.checkpoint_dir();
    std::fs::create_dir_all(&dir).map_err(|e| Error::write(&dir, e))?;
    run.write(&snapshot_file(epoch), &json)
}

/// The metrics a run had when `epoch` was checkpointed.
pub fn snapshot_file(epoch: usize) -> String {
    format!("{CHECKPOINT_DIR}/metrics-{epoch}.json")
}

/// The metrics of a finished run (`metrics.json`, checked against the manifest); empty if it
/// wrote none.
pub fn read(run: &RunDir) -> Result<Vec<EpochRecord>> {
    read_file(&run.file(JSON_FILE))
}

/// The metrics of the epochs up to `epoch`, from that epoch's snapshot (checked), or from
/// `metrics.json` in a run of an earlier lab10, which wrote no snapshots.
pub fn read_at_checkpoint(run: &RunDir, epoch: usize) -> Result<Vec<EpochRecord>> {
    let snapshot = run.file(&snapshot_file(epoch));
    let mut records = if snapshot.is_file() {
        read_file(&snapshot)?
    } else {
        // A run of an earlier lab10 wrote no snapshots: its metrics.json, as it is (its
        // manifest, if any, was made by `verify --seal` or the resume that adopted it).
        let path = run.file(JSON_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Checkpoint {
                path,
                message: format!("unreadable metrics ({e})"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::read(path, e)),
        }
    };
    records.retain(|r| r.epoch <= epoch);
    Ok(records)
}

fn read_file(path: &Path) -> Result<Vec<EpochRecord>> {
    match read_checked(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Checkpoint {
            path: path.to_path_buf(),
            message: format!("unreadable metrics ({e})"),
        }),
        Err(Error::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(Vec::new())
        }
        Err(e) => Err(e),
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
            learning_rate: 0.001,
            gradient_norms,
        }
    }

    #[test]
    fn csv_has_a_column_per_layer_only_when_norms_are_recorded() {
        let plain = String::from_utf8(csv_bytes(&[record(1, vec![])])).unwrap();
        assert_eq!(
            plain,
            "epoch,train_loss,train_accuracy,valid_loss,valid_accuracy,train_seconds,epoch_seconds,\
             learning_rate\n1,0.5,90,0.25,95,1.5,2,0.001\n"
        );
        let grads = String::from_utf8(csv_bytes(&[record(1, vec![1e-5, 0.25])])).unwrap();
        let lines: Vec<&str> = grads.lines().collect();
        assert!(
            lines[0].ends_with(",epoch_seconds,learning_rate,grad_l1,grad_l2"),
            "{grads}"
        );
        assert!(lines[1].ends_with(",2,0.001,1e-5,2.5e-1"), "{grads}");
        let empty = String::from_utf8(csv_bytes(&[])).unwrap();
        assert!(empty.starts_with("epoch,train_loss"), "{empty}");
    }
}
