//! `report.json`: everything a reader needs to trust (and repeat) a run.

use lab10_data::DataRecord;
use serde::{Deserialize, Deserializer, Serialize};

/// How a run ended. In report.json a string: `"completed"`, `"interrupted"` (stopped on
/// request: see `interruption`), or `"diverged: ..."` with what happened and which model the
/// numbers describe.
/// One class's test accuracy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassAccuracy {
    pub digit: usize,
    pub correct: usize,
    pub total: usize,
    /// Percent.
    pub accuracy: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum RunStatus {
    #[default]
    Completed,
    Interrupted,
    /// What happened, and which model the test metrics are of.
    Diverged(String),
}

const DIVERGED: &str = "diverged: ";

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunStatus::Completed => f.write_str("completed"),
            RunStatus::Interrupted => f.write_str("interrupted"),
            RunStatus::Diverged(why) => write!(f, "{DIVERGED}{why}"),
        }
    }
}

impl From<RunStatus> for String {
    fn from(s: RunStatus) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for RunStatus {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "completed" => Ok(RunStatus::Completed),
            "interrupted" => Ok(RunStatus::Interrupted),
            _ => match s.strip_prefix(DIVERGED) {
                Some(why) => Ok(RunStatus::Diverged(why.to_string())),
                None => Err(format!(
                    "unknown run status {s:?} (expected completed, interrupted or diverged: ...)"
                )),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub experiment: String,
    pub run_id: String,
    /// How the run ended (`completed` for a report without this field).
    #[serde(default)]
    pub status: RunStatus,
    /// Where a run stopped on request stood, and how to continue it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interruption: Option<Interruption>,
    /// For a run made by `lab10 import`: the file the weights came from (not trained here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The dataset's name (`mnist` for a report without this field).
    #[serde(default = "default_dataset")]
    pub dataset: String,
    /// The dataset's files: digests and folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataRecord>,
    pub description: String,
    #[serde(default)]
    pub reference: Option<String>,
    pub backend: String,
    pub device: String,
    pub seed: u64,
    pub params: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: String,
    pub train_images: usize,
    /// "test (10000 images)" or "holdout (5000 images)".
    pub validation: String,
    pub test_images: usize,
    /// `null` (NaN) when no model exists to test (a run that diverged in its first epoch).
    #[serde(deserialize_with = "nan_if_null")]
    pub test_loss: f64,
    /// Percent.
    #[serde(deserialize_with = "nan_if_null")]
    pub test_accuracy: f64,
    pub per_class_accuracy: Vec<ClassAccuracy>,
    #[serde(deserialize_with = "nan_if_null")]
    pub final_train_loss: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub final_train_accuracy: f64,
    pub epoch_seconds: Vec<f64>,
    #[serde(deserialize_with = "nan_if_null")]
    pub mean_epoch_seconds: f64,
    pub total_seconds: f64,
    /// From the start of `lab10 train` to the first training step: data load and
    /// verification, model initialisation, pre-training if any. (0 in older reports.)
    #[serde(default)]
    pub setup_seconds: f64,
    /// From the start of `lab10 train` to the end of the first training step: `setup_seconds`
    /// plus that step, with its kernel compilation and autotuning on a GPU. (None in older
    /// reports, and when no step ran.)
    #[serde(default)]
    pub first_step_seconds: Option<f64>,
    /// Evaluating the saved model on the test images. (0 in older reports.)
    #[serde(default)]
    pub eval_seconds: f64,
    pub started_at: String,
    pub finished_at: String,
    pub resumed_from_epoch: Option<usize>,
    /// The epoch whose model the run kept (`keep = "best"`): its test numbers are the report's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_epoch: Option<usize>,
    /// Why training ended before its last epoch without a stop request (early stopping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_early: Option<String>,
    pub git_commit: Option<String>,
    pub lab10_version: String,
    pub command: String,
}

impl Report {
    pub fn is_completed(&self) -> bool {
        self.status == RunStatus::Completed
    }
}

/// The state of a run stopped by Ctrl-C or SIGTERM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interruption {
    /// `SIGINT` or `SIGTERM`.
    pub signal: String,
    /// The epoch in progress when the stop came (1-based); its steps are redone on resume.
    pub epoch: usize,
    /// Training steps of that epoch done when it stopped.
    pub step: usize,
    /// The last epoch whose checkpoint is complete (`None`: none; resuming starts anew).
    pub last_checkpoint: Option<usize>,
    pub resume_command: String,
}

/// MNIST: the dataset of a report or summary that names none.
pub fn default_dataset() -> String {
    lab10_data::MNIST.name.into()
}

/// JSON has no NaN: serde_json writes it as `null` (a diverged run's missing test loss, an
/// interrupted run's missing evaluation, a diverged epoch's loss). Read `null` back as NaN.
pub fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Now, as report files write it: `2026-11-28T17:08:42Z`.
pub fn utc_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Now, as run and summary folder names start: `20261128-170842`.
pub fn utc_stamp() -> String {
    chrono::Utc::now().format("%Y%m%d-%H%M%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::RunStatus;

    #[test]
    fn run_status_strings_round_trip_in_report_json() {
        for (status, json) in [
            (RunStatus::Completed, "\"completed\""),
            (RunStatus::Interrupted, "\"interrupted\""),
            (
                RunStatus::Diverged("the training loss became NaN".into()),
                "\"diverged: the training loss became NaN\"",
            ),
        ] {
            assert_eq!(serde_json::to_string(&status).unwrap(), json);
            assert_eq!(serde_json::from_str::<RunStatus>(json).unwrap(), status);
        }
        let err = serde_json::from_str::<RunStatus>("\"finished\"").unwrap_err();
        assert!(err.to_string().contains("unknown run status"), "{err}");
    }
}
