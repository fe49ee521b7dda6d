//! Using a trained model: evaluate a saved run or model file, and sample predictions.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use lab10_data::{DataRecord, IMAGE_PIXELS};
use lab10_models::MnistDataset;
use rand::{SeedableRng, rngs::StdRng, seq::index::sample};

use crate::config::experiment::Experiment;
use crate::data::{DataOptions, load_test};
use crate::evaluate::{Evaluation, evaluate};
use crate::model::load_model;
use lab10_runs::{Error, Result};
use lab10_runs::{MODEL_FILE, RunDir};

/// A model file and the experiment that describes its architecture and input scaling.
pub struct SavedModel {
    pub path: PathBuf,
    pub experiment: Experiment,
}

impl SavedModel {
    /// `target` is a run folder, an experiment folder (its latest run) or a model file inside a
    /// run. `experiment` overrides the run's own experiment (to evaluate a bare model file).
    pub fn open(target: &Path, experiment: Option<Experiment>) -> Result<Self> {
        let path = if target.is_file() {
            target.to_path_buf()
        } else {
            RunDir::open(target)?.file(MODEL_FILE)
        };
        let Some(experiment) = experiment else {
            let run = RunDir::open(target).map_err(|e| match e {
                Error::Checkpoint { path, message } => Error::Checkpoint {
                    path,
                    message: format!(
                        "{message}; for a model file outside a run, pass --experiment NAME"
                    ),
                },
                other => other,
            })?;
            let experiment = Experiment::of_run(&run)?;
            return Ok(Self { path, experiment });
        };
        Ok(Self { path, experiment })
    }

    pub fn load(&self, device: &Device) -> Result<lab10_models::Mlp> {
        load_model(&self.path, &self.experiment, device)
    }

    /// The test split this model is evaluated on (all 10,000 images unless limited): the
    /// run's own dataset, unless `--dataset` names another one.
    pub fn test_data(&self, data: &DataOptions, test_size: Option<usize>) -> Result<TestData> {
        let mut config = self.experiment.training.clone();
        config.test_size = test_size;
        let (record, test) = load_test(&data.request_for(&self.experiment)?, &config)?;
        Ok(TestData {
            data: test,
            record,
            trained_on: self.experiment.dataset.clone(),
        })
    }

    /// The model's logits for the first `n` images of `data`, one row per image.
    pub fn logits(&self, data: &MnistDataset, n: usize, device: &Device) -> Result<Vec<Vec<f32>>> {
        use burn::data::dataloader::batcher::Batcher;
        use burn::data::dataset::Dataset;
        let model = self.load(device)?;
        let n = n.min(data.len());
        if n == 0 {
            return Ok(Vec::new());
        }
        let items = (0..n).filter_map(|i| data.get(i).ok()).collect();
        let batch =
            lab10_models::MnistBatcher::new(self.experiment.training.pixels).batch(items, device);
        let logits = model.forward(batch.images);
        let classes = logits.dims()[1];
        let values: Vec<f32> = logits
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("float logits");
        Ok(values.chunks(classes).map(<[f32]>::to_vec).collect())
    }

    pub fn evaluate(&self, data: &MnistDataset, device: &Device) -> Result<Evaluation> {
        let (model, pixels) = (self.load(device)?, self.experiment.training.pixels);
        Ok(evaluate(&model, data, pixels, device))
    }
}

/// A test split, where it came from, and what the model was trained on.
pub struct TestData {
    pub data: MnistDataset,
    pub record: DataRecord,
    /// The dataset of the model's run (`mnist` where its report names none).
    pub trained_on: String,
}

impl TestData {
    /// Evaluated on another dataset than the model was trained on (asked for with --dataset).
    pub fn is_cross(&self) -> bool {
        self.record.name != self.trained_on
    }

    /// `fashion-mnist`, or `mnist (the model was trained on fashion-mnist)`.
    pub fn label(&self) -> String {
        if self.is_cross() {
            format!(
                "{} (the model was trained on {})",
                self.record.name, self.trained_on
            )
        } else {
            self.record.name.clone()
        }
    }
}

/// One test image with the model's verdict.
#[derive(Debug, Clone)]
pub struct Prediction {
    pub index: usize,
    pub actual: u8,
    pub predicted: u8,
    pub confidence: f32,
    pub pixels: [u8; IMAGE_PIXELS],
}

/// `samples` test images drawn at random (seeded) and what the model says of each.
pub fn sample_predictions(
    evaluation: &Evaluation,
    data: &MnistDataset,
    samples: usize,
    seed: u64,
) -> Vec<Prediction> {
    let mnist = data.mnist();
    let mut rng = StdRng::seed_from_u64(seed);
    sample(&mut rng, mnist.len(), samples.min(mnist.len()))
        .into_iter()
        .map(|index| Prediction {
            index,
            actual: mnist.labels[index],
            predicted: evaluation.predictions[index],
            confidence: evaluation.confidence[index],
            pixels: mnist.image(index).try_into().expect("784 pixels"),
        })
        .collect()
}

/// The digit as text, two pixel rows per line with half blocks so it keeps its proportions.
pub fn draw_digit(pixels: &[u8; IMAGE_PIXELS]) -> String {
    const SIDE: usize = lab10_data::IMAGE_SIDE;
    const INK: u8 = 96;
    let mut out = String::new();
    for row in (0..SIDE).step_by(2) {
        for col in 0..SIDE {
            let top = pixels[row * SIDE + col] > INK;
            let bottom = pixels[(row + 1) * SIDE + col] > INK;
            out.push(match (top, bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}
