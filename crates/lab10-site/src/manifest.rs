//! `site.json`: what the page's script reads to load the models and the test digits. The
//! page's own text (names, accuracies, the lesson's table) is in index.html already.

use lab10_models::MlpConfig;
use lab10_report::RunData;
use serde::{Deserialize, Serialize};

/// The manifest's file name; a folder with one is a site `lab10 site` wrote.
pub const MANIFEST: &str = "site.json";
/// The test digits: `count` images of 784 bytes (0-255, row by row), one after another.
pub const DIGITS_FILE: &str = "digits.bin";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `lab10 <version>`.
    pub generator: String,
    /// When the site was written (UTC, RFC 3339).
    pub created: String,
    /// The page's heading.
    pub title: String,
    pub dataset: String,
    pub classes: Vec<String>,
    pub models: Vec<SiteModel>,
    pub digits: Digits,
}

/// One model on the site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteModel {
    /// The experiment, with the run id when two runs of one experiment are on the site.
    pub label: String,
    pub experiment: String,
    pub run_id: String,
    /// Its experiment's `[model]` table: the architecture the weights are loaded into.
    pub architecture: MlpConfig,
    /// The layers' widths as people write them: `784-256-256-10`.
    pub widths: String,
    /// What a [0, 1] pixel is multiplied by before the model reads it (the experiment's
    /// `pixels`: 1 for `unit`, 255 for `raw`).
    pub input_scale: f32,
    /// The run's model file (burnpack), relative to the site.
    pub weights: String,
    pub weights_bytes: usize,
    /// The weights file's SHA-256 (hex): the page refuses a file that differs (a corrupt or
    /// replaced file can still parse, with other numbers in it).
    pub weights_sha256: String,
    /// The experiment's description (its file's `description`).
    pub description: String,
    /// Percent, from the run's report.
    pub test_accuracy: Option<f64>,
    pub params: usize,
}

/// The test digits shipped for "random test digit": the first `count` images of the test
/// split, in order (so digit `i` is test image `i`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Digits {
    pub file: String,
    pub count: usize,
    pub labels: Vec<u8>,
}

impl SiteModel {
    pub fn new(run: &RunData, disambiguate: bool, weights: String, weights_bytes: &[u8]) -> Self {
        let saved = &run.saved;
        let model = &saved.experiment.model;
        Self {
            label: run.label(disambiguate),
            experiment: run.report.experiment.clone(),
            run_id: run.report.run_id.clone(),
            architecture: model.clone(),
            widths: model.widths_text(),
            input_scale: 255.0 * saved.experiment.training.pixels.factor(),
            weights,
            weights_bytes: weights_bytes.len(),
            weights_sha256: lab10_data::idx::sha256_hex(weights_bytes),
            description: run.report.description.clone(),
            test_accuracy: Some(run.report.test_accuracy).filter(|a| a.is_finite()),
            params: model.num_params(),
        }
    }
}

impl Manifest {
    pub fn new(title: &str, first: &RunData, models: Vec<SiteModel>, digits: Digits) -> Self {
        Self {
            generator: format!("lab10 {}", env!("CARGO_PKG_VERSION")),
            created: lab10_runs::utc_now(),
            title: title.trim().to_string(),
            dataset: first.dataset.clone(),
            classes: first.classes.iter().map(|c| c.to_string()).collect(),
            models,
            digits,
        }
    }
}
