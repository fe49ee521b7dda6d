//! The trained models `lab10 serve` answers with, loaded once at start-up, and the test images
//! behind "random test digit".

use std::path::PathBuf;

use burn::prelude::*;
use lab10_data::{IMAGE_PIXELS, Mnist};
use lab10_experiment::{DataOptions, SavedModel};
use lab10_models::Mlp;
use lab10_runs::RunDir;
use serde::Serialize;

/// One loaded run.
pub struct ServedModel {
    pub info: ModelInfo,
    model: Mlp,
    /// Multiplies a [0, 1] pixel into the model's input scale (its experiment's `pixels`).
    input_factor: f32,
}

/// What `GET /api/models` says of a model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub experiment: String,
    /// The run folder.
    pub run: String,
    pub dataset: String,
    /// Percent, from the run's report (absent for a run without one).
    pub test_accuracy: Option<f64>,
}

/// Everything served: the models (all trained on one dataset) and that dataset's test split.
pub struct Served {
    pub models: Vec<ServedModel>,
    pub dataset: String,
    pub classes: Vec<String>,
    pub test: Mnist,
    pub device: Device,
}

/// One model's answer.
#[derive(Debug, Clone, Serialize)]
pub struct ModelPrediction {
    pub experiment: String,
    pub run: String,
    pub probabilities: Vec<f32>,
    pub predicted: usize,
}

impl Served {
    /// Loads the runs in `runs` (run folders, or experiment folders meaning their latest run)
    /// onto `device`, and the test split of their dataset.
    pub fn load(runs: &[PathBuf], data: &DataOptions, device: Device) -> lab10_runs::Result<Self> {
        let mut models = Vec::new();
        let mut test = None;
        for target in runs {
            let run = RunDir::open(target)?;
            let saved = SavedModel::open(&run.path, None)?;
            // A report that is damaged stops the server; one that is missing shows no accuracy.
            let report = match run.report() {
                Ok(report) => Some(report),
                Err(e @ lab10_runs::Error::Damaged { .. }) => return Err(e),
                Err(_) => None,
            };
            let dataset = saved.experiment.dataset.clone();
            let info = ModelInfo {
                experiment: saved.experiment.name.clone(),
                run: run.path.display().to_string(),
                dataset: dataset.clone(),
                test_accuracy: report.map(|r| r.test_accuracy).filter(|a| a.is_finite()),
            };
            if let Some(first) = models.first().map(|m: &ServedModel| &m.info)
                && first.dataset != dataset
            {
                return Err(lab10_runs::Error::Invalid(format!(
                    "{} was trained on {dataset} but {} on {}; serve runs of one dataset \
                     at a time (pass --dataset or name the runs)",
                    info.run, first.run, first.dataset
                )));
            }
            if test.is_none() {
                test = Some(saved.test_data(data, None)?);
            }
            models.push(ServedModel {
                model: saved.load(&device)?,
                input_factor: 255.0 * saved.experiment.training.pixels.factor(),
                info,
            });
        }
        let test = test.ok_or_else(|| lab10_runs::Error::Invalid("no runs to serve".into()))?;
        let dataset = models[0].info.dataset.clone();
        Ok(Self {
            classes: lab10_data::class_names(&dataset)
                .iter()
                .map(|c| c.to_string())
                .collect(),
            dataset,
            test: test.data.mnist().clone(),
            models,
            device,
        })
    }

    /// Every model's class probabilities for one 28x28 image of [0, 1] values.
    pub fn predict(&self, pixels: &[f32]) -> Vec<ModelPrediction> {
        assert_eq!(pixels.len(), IMAGE_PIXELS);
        self.models
            .iter()
            .map(|m| {
                let probabilities = m.model.probabilities(pixels, m.input_factor, &self.device);
                let predicted = probabilities
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(0, |(i, _)| i);
                ModelPrediction {
                    experiment: m.info.experiment.clone(),
                    run: m.info.run.clone(),
                    probabilities,
                    predicted,
                }
            })
            .collect()
    }
}
