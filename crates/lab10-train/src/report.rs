//! `report.json`: everything a reader needs to trust (and repeat) a run.

use serde::{Deserialize, Serialize};

use crate::evaluate::ClassAccuracy;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub experiment: String,
    pub run_id: String,
    /// "completed", or "diverged: ..." with what happened and which model the numbers describe.
    /// (Reports written before this field existed were all of completed runs.)
    #[serde(default = "completed")]
    pub status: String,
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
    pub test_loss: f64,
    /// Percent.
    pub test_accuracy: f64,
    pub per_class_accuracy: Vec<ClassAccuracy>,
    pub final_train_loss: f64,
    pub final_train_accuracy: f64,
    pub epoch_seconds: Vec<f64>,
    pub mean_epoch_seconds: f64,
    pub total_seconds: f64,
    /// From the start of `lab10 train` to the first training step: data load and
    /// verification, model initialisation, pre-training if any. (0 in older reports.)
    #[serde(default)]
    pub setup_seconds: f64,
    /// Evaluating the saved model on the test images. (0 in older reports.)
    #[serde(default)]
    pub eval_seconds: f64,
    pub started_at: String,
    pub finished_at: String,
    pub resumed_from_epoch: Option<usize>,
    pub git_commit: Option<String>,
    pub lab10_version: String,
    pub command: String,
}

fn completed() -> String {
    "completed".into()
}

/// The commit of the working tree, when run from a git checkout with git installed.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}
