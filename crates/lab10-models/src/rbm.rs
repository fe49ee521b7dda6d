//! Restricted Boltzmann Machines, the pre-training of Hinton, Osindero & Teh (2006) that the
//! lesson tells as the first answer to "we initialised the weights in a stupid way".
//!
//! An RBM is one layer seen as a generative model: visible units `v` (the layer's input),
//! hidden units `h` (its output), weights shared both ways. Contrastive divergence (CD-1) nudges
//! the weights so that the input reconstructed from the hidden units looks like the input.
//! Trained greedily, layer after layer, the weights become the hidden layers' starting point
//! for ordinary supervised training (the Deep Belief Net recipe).

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::sigmoid;

use crate::mlp::Mlp;

/// A Bernoulli-Bernoulli RBM. `weights` is `[visible, hidden]`, the layout of a Burn `Linear`
/// weight, so a trained RBM drops straight into a hidden layer.
#[derive(Debug, Clone)]
pub struct Rbm {
    pub weights: Tensor<2>,
    pub visible_bias: Tensor<1>,
    pub hidden_bias: Tensor<1>,
}

impl Rbm {
    /// Small random weights (Hinton's practical guide: normal(0, 0.01)) and zero biases.
    pub fn new(visible: usize, hidden: usize, device: &Device) -> Self {
        Self {
            weights: Tensor::random([visible, hidden], Distribution::Normal(0.0, 0.01), device),
            visible_bias: Tensor::zeros([visible], device),
            hidden_bias: Tensor::zeros([hidden], device),
        }
    }

    /// P(h = 1 | v) for a batch `[n, visible]`: also the features passed to the next layer.
    pub fn hidden_probabilities(&self, visible: Tensor<2>) -> Tensor<2> {
        sigmoid(visible.matmul(self.weights.clone()) + self.hidden_bias.clone().unsqueeze())
    }

    /// P(v = 1 | h) for a batch `[n, hidden]`.
    pub fn visible_probabilities(&self, hidden: Tensor<2>) -> Tensor<2> {
        sigmoid(
            hidden.matmul(self.weights.clone().transpose()) + self.visible_bias.clone().unsqueeze(),
        )
    }

    /// Mean squared difference between a batch and its reconstruction through the hidden
    /// probabilities: the number to watch while pre-training.
    pub fn reconstruction_error(&self, visible: Tensor<2>) -> f64 {
        let reconstruction = self.visible_probabilities(self.hidden_probabilities(visible.clone()));
        (visible - reconstruction)
            .square()
            .mean()
            .into_scalar::<f64>()
    }

    /// One step of contrastive divergence with a single Gibbs step (CD-1) on a batch:
    /// `W += lr * (<v0 h0> - <v1 h1>)`, the data's correlations minus the model's.
    pub fn contrastive_divergence(&mut self, v0: Tensor<2>, learning_rate: f64) {
        let [n, _] = v0.dims();
        let h0 = self.hidden_probabilities(v0.clone());
        // Sampling the hidden states (not their probabilities) is what keeps the hidden units
        // from passing more information than binary units can: an information bottleneck.
        let noise = Tensor::random(h0.shape(), Distribution::Default, &h0.device());
        let h0_sample = h0.clone().greater(noise).float();
        let v1 = self.visible_probabilities(h0_sample);
        let h1 = self.hidden_probabilities(v1.clone());

        let positive = v0.clone().transpose().matmul(h0.clone());
        let negative = v1.clone().transpose().matmul(h1.clone());
        let scale = learning_rate / n as f64;
        self.weights = self.weights.clone() + (positive - negative) * scale;
        self.visible_bias =
            self.visible_bias.clone() + (v0 - v1).sum_dim(0).squeeze_dim::<1>(0) * scale;
        self.hidden_bias =
            self.hidden_bias.clone() + (h0 - h1).sum_dim(0).squeeze_dim::<1>(0) * scale;
    }
}

impl Mlp {
    /// Replaces the first hidden layers' weights and biases with pre-trained RBMs' (the
    /// visible biases only served the reconstruction and are dropped). The values are copied
    /// onto the model's own device, so RBMs trained without autodiff can seed a model that
    /// is about to be trained with it.
    pub fn with_pretrained(mut self, rbms: &[Rbm]) -> Self {
        assert!(
            rbms.len() <= self.hidden.len(),
            "{} RBMs for {} hidden layers",
            rbms.len(),
            self.hidden.len()
        );
        for (layer, rbm) in self.hidden.iter_mut().zip(rbms) {
            let device = layer.weight.val().device();
            assert_eq!(
                layer.weight.val().dims(),
                rbm.weights.dims(),
                "RBM and layer shapes differ"
            );
            layer.weight = Param::from_tensor(Tensor::from_data(rbm.weights.to_data(), &device));
            layer.bias = Some(Param::from_tensor(Tensor::from_data(
                rbm.hidden_bias.to_data(),
                &device,
            )));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Noisy copies of three binary prototypes: data an RBM with a few hidden units can learn.
    fn patterns(device: &Device) -> Tensor<2> {
        let visible = 36;
        let mut rows = Vec::new();
        for i in 0..120 {
            let prototype = i % 3;
            for j in 0..visible {
                let on = (j / 12) == prototype;
                // Deterministic "noise": flip every 17th bit.
                let flip = (i * visible + j) % 17 == 0;
                rows.push(if on != flip { 1.0f32 } else { 0.0 });
            }
        }
        Tensor::from_data(TensorData::new(rows, [120, visible]), device)
    }

    #[test]
    fn cd1_lowers_the_reconstruction_error() {
        let device = Device::default();
        device.seed(7);
        let data = patterns(&device);
        let mut rbm = Rbm::new(36, 8, &device);
        let before = rbm.reconstruction_error(data.clone());
        for _ in 0..200 {
            rbm.contrastive_divergence(data.clone(), 0.1);
        }
        let after = rbm.reconstruction_error(data);
        assert!(
            before > 0.2,
            "an untrained RBM reconstructs ~0.5 everywhere: {before}"
        );
        assert!(
            after < 0.5 * before,
            "CD-1 should at least halve the error: {before} -> {after}"
        );
    }

    #[test]
    fn pretrained_weights_land_in_the_hidden_layers() {
        let device = Device::default();
        let config = crate::MlpConfig {
            inputs: 6,
            hidden: vec![4, 3],
            classes: 2,
            activation: crate::ActivationKind::Sigmoid,
            weight_init: crate::Init::Zeros,
            bias_init: crate::Init::Zeros,
            dropout: 0.0,
        };
        let rbm = Rbm::new(6, 4, &device);
        let model = config
            .init(&device)
            .with_pretrained(std::slice::from_ref(&rbm));
        model.hidden[0]
            .weight
            .val()
            .into_data()
            .assert_eq(&rbm.weights.to_data(), true);
        // The second hidden layer keeps its own initialisation.
        let second = model.hidden[1]
            .weight
            .val()
            .abs()
            .sum()
            .into_scalar::<f32>();
        assert_eq!(second, 0.0);
    }
}
