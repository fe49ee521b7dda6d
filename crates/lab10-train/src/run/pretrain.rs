//! RBM pre-training, a step of a run before supervised training: one RBM per hidden layer,
//! trained greedily with CD-1 on the training images as the experiment's `[pretrain]` table
//! ([`PretrainConfig`]) says, its reconstruction error reported and written to `pretrain.csv`.

use std::time::Instant;

use burn::prelude::*;
use lab10_data::IMAGE_PIXELS;
use lab10_experiment::{Experiment, PretrainConfig};
use lab10_models::MnistDataset;
use lab10_models::rbm::Rbm;
use lab10_runs::{Error, PretrainRecord, Result, RunDir, metrics};
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};

use super::progress::{Event, Progress};

/// Reconstruction error is reported on this many training images (a fixed probe).
const PROBE: usize = 1000;

/// Pre-trains one RBM per hidden layer of `experiment`'s model on `train` (no autodiff),
/// reporting and writing (`pretrain.csv`) the probe reconstruction error per epoch.
pub fn pretrain(
    config: &PretrainConfig,
    experiment: &Experiment,
    train: &MnistDataset,
    device: &Device,
    run: &RunDir,
    progress: &dyn Progress,
) -> Result<Vec<Rbm>> {
    let PretrainConfig::Rbm {
        epochs,
        learning_rate,
        batch_size,
    } = *config;
    progress.event(Event::Pretraining {
        label: config.label(),
    });
    let (model, seed) = (&experiment.model, experiment.training.seed);
    let images = &train.mnist().images;
    let n = images.len() / IMAGE_PIXELS;
    let pixels: Vec<f32> = images.iter().map(|&p| p as f32 / 255.0).collect();
    let mut inputs = Tensor::<2>::from_data(TensorData::new(pixels, [n, IMAGE_PIXELS]), device);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<i64> = (0..n as i64).collect();
    let mut rbms = Vec::with_capacity(model.hidden.len());
    let mut log = Vec::new();
    let widths = model.widths();
    for (layer, pair) in widths[..widths.len() - 1].windows(2).enumerate() {
        let (visible, hidden) = (pair[0], pair[1]);
        let mut rbm = Rbm::new(visible, hidden, device);
        let probe = inputs.clone().slice(0..n.min(PROBE));
        let report = |epoch, reconstruction_error, seconds| {
            progress.event(Event::PretrainEpoch {
                layer: layer + 1,
                layers: model.hidden.len(),
                visible,
                hidden,
                epoch,
                epochs,
                reconstruction_error,
                seconds,
            })
        };
        report(0, rbm.reconstruction_error(probe.clone()), 0.0);
        for epoch in 1..=epochs {
            let started = Instant::now();
            order.shuffle(&mut rng);
            let index = Tensor::<1, Int>::from_data(TensorData::new(order.clone(), [n]), device);
            let shuffled = inputs.clone().select(0, index);
            for start in (0..n).step_by(batch_size) {
                let batch = shuffled.clone().slice(start..(start + batch_size).min(n));
                rbm.contrastive_divergence(batch, learning_rate);
            }
            let error = rbm.reconstruction_error(probe.clone());
            let seconds = started.elapsed().as_secs_f64();
            report(epoch, error, seconds);
            if !error.is_finite() {
                return Err(Error::Training(format!(
                    "RBM pre-training of layer {} diverged (reconstruction error {error}); \
                     lower [pretrain] learning_rate",
                    layer + 1
                )));
            }
            log.push(PretrainRecord {
                layer: layer + 1,
                epoch,
                reconstruction_error: error,
                // Milliseconds are all a wall time says.
                seconds: (seconds * 1000.0).round() / 1000.0,
            });
        }
        // The next RBM learns from this layer's features, as the network will compute them.
        inputs = rbm.hidden_probabilities(inputs);
        rbms.push(rbm);
    }
    metrics::write_pretrain(run, &log)?;
    Ok(rbms)
}
