//! Test-set evaluation: mean cross-entropy, accuracy, per-class accuracy and every prediction.
//! `lab10 train` and `lab10 eval` both report through this one function, so their numbers agree.

use burn::data::dataloader::DataLoaderBuilder;
use burn::prelude::*;
use lab10_data::NUM_CLASSES;
use lab10_models::{Mlp, MnistBatcher, MnistDataset, PixelScale};
use lab10_runs::ClassAccuracy;
use serde::{Deserialize, Serialize};

/// Large batches for evaluation and validation: they need no gradients, and fewer batches mean
/// less overhead. Metrics are weighted by batch size, so this does not change the numbers.
pub const EVAL_BATCH: usize = 1000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub images: usize,
    pub loss: f64,
    /// Percent.
    pub accuracy: f64,
    pub per_class: Vec<ClassAccuracy>,
    #[serde(skip)]
    pub predictions: Vec<u8>,
    /// Softmax probability of the predicted class, per image.
    #[serde(skip)]
    pub confidence: Vec<f32>,
}

/// Evaluates `model` (on a device without autodiff, so dropout is off) on `data`.
pub fn evaluate(
    model: &Mlp,
    data: &MnistDataset,
    scale: PixelScale,
    device: &Device,
) -> Evaluation {
    let loader = DataLoaderBuilder::new(MnistBatcher::new(scale))
        .batch_size(EVAL_BATCH)
        .set_device(device.clone())
        .build(data.clone());
    let mut loss_sum = 0.0f64;
    let mut predictions = Vec::with_capacity(data.mnist().len());
    let mut confidence = Vec::with_capacity(data.mnist().len());
    for batch in loader.iter() {
        let batch = batch.expect("in-memory MNIST batches cannot fail");
        let n = batch.targets.dims()[0];
        let out = model.forward_classification(batch);
        loss_sum += out.loss.into_scalar::<f64>() * n as f64;
        let probs = burn::tensor::activation::softmax(out.output, 1);
        let (best, index) = probs.max_dim_with_indices(1);
        predictions.extend(index.into_data().iter::<i64>().map(|p| p as u8));
        confidence.extend(best.into_data().iter::<f32>());
    }
    let labels = &data.mnist().labels;
    let mut correct = [0usize; NUM_CLASSES];
    let mut total = [0usize; NUM_CLASSES];
    for (&label, &predicted) in labels.iter().zip(&predictions) {
        total[label as usize] += 1;
        correct[label as usize] += usize::from(label == predicted);
    }
    let n = labels.len();
    // NaN for a class with no images (0 / 0).
    let percent = |c: usize, t: usize| 100.0 * c as f64 / t as f64;
    Evaluation {
        images: n,
        loss: loss_sum / n as f64,
        accuracy: percent(correct.iter().sum(), n),
        per_class: (0..NUM_CLASSES)
            .map(|d| ClassAccuracy {
                digit: d,
                correct: correct[d],
                total: total[d],
                accuracy: percent(correct[d], total[d]),
            })
            .collect(),
        predictions,
        confidence,
    }
}
