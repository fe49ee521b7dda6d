//! The model itself.

use burn::nn::activation::Activation;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;

use crate::config::MlpConfig;

/// Hidden layers, each followed by the activation and dropout, then a linear output layer
/// producing logits (softmax is folded into the cross-entropy loss, as in the lesson's
/// `softmax_cross_entropy_with_logits`).
#[derive(Module, Debug)]
pub struct Mlp {
    pub hidden: Vec<Linear>,
    pub output: Linear,
    pub activation: Activation,
    pub dropout: Dropout,
    /// Whether each training step also measures the layers' gradient norms (see
    /// `StepOutput` in step.rs). Off by default: it costs a pass over every weight gradient.
    #[module(skip)]
    pub record_gradient_norms: bool,
}

impl MlpConfig {
    /// Builds the model on `device`, drawing parameters from the backend's seeded RNG.
    ///
    /// Panics on an invalid configuration: call [`MlpConfig::validate`] first.
    pub fn init(&self, device: &Device) -> Mlp {
        let widths = self.widths();
        let mut layers: Vec<Linear> = widths
            .windows(2)
            .map(|w| self.linear(w[0], w[1], device))
            .collect();
        let output = layers.pop().expect("at least the output layer");
        Mlp {
            hidden: layers,
            output,
            activation: self.activation.to_burn().init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            record_gradient_norms: false,
        }
    }

    fn linear(&self, fan_in: usize, fan_out: usize, device: &Device) -> Linear {
        let mut linear = LinearConfig::new(fan_in, fan_out)
            .with_initializer(self.weight_init.to_burn())
            .init(device);
        // Burn's LinearConfig applies one initializer to weights and bias; the lesson's models
        // need them apart, so the bias is replaced (with the layer's fans, for Xavier/Kaiming).
        if self.bias_init != self.weight_init {
            linear.bias = Some(self.bias_init.to_burn().init_with(
                [fan_out],
                Some(fan_in),
                Some(fan_out),
                device,
            ));
        }
        linear
    }
}

impl Mlp {
    /// `[batch, inputs]` -> `[batch, classes]` logits.
    pub fn forward(&self, images: Tensor<2>) -> Tensor<2> {
        let x = self.hidden.iter().fold(images, |x, layer| {
            self.dropout
                .forward(self.activation.forward(layer.forward(x)))
        });
        self.output.forward(x)
    }

    /// Class probabilities (softmax of the logits) for one image of `pixels` in [0, 1],
    /// multiplied by `input_scale` into the model's input range (its experiment's `pixels`).
    /// What `lab10 serve` answers.
    pub fn probabilities(&self, pixels: &[f32], input_scale: f32, device: &Device) -> Vec<f32> {
        let input: Vec<f32> = pixels.iter().map(|p| p * input_scale).collect();
        let x = Tensor::<2>::from_data(TensorData::new(input, [1, pixels.len()]), device);
        softmax(self.forward(x), 1)
            .into_data()
            .iter::<f32>()
            .collect()
    }
}
