//! Turns a list of items into one input tensor (`batch x 784`) and one target tensor.

use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::MnistItem;
use lab10_data::IMAGE_PIXELS;

/// How pixel bytes become model inputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PixelScale {
    /// 0..=255 -> 0.0..=1.0, as Keras/PyTorch tutorials and TF's `input_data` do.
    #[default]
    Unit,
    /// The raw 0..=255 values, as the lesson's document feeds them.
    Raw,
}

impl PixelScale {
    pub fn factor(self) -> f32 {
        match self {
            PixelScale::Unit => 1.0 / 255.0,
            PixelScale::Raw => 1.0,
        }
    }
}

#[derive(Debug, Clone)]
pub struct MnistBatch {
    /// `[batch, 784]` pixels, scaled.
    pub images: Tensor<2>,
    /// `[batch]` digit labels.
    pub targets: Tensor<1, Int>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct MnistBatcher {
    pub scale: PixelScale,
}

impl MnistBatcher {
    pub fn new(scale: PixelScale) -> Self {
        Self { scale }
    }
}

impl Batcher<MnistItem, MnistBatch> for MnistBatcher {
    fn batch(&self, items: Vec<MnistItem>, device: &Device) -> MnistBatch {
        let factor = self.scale.factor();
        let n = items.len();
        let mut pixels = Vec::with_capacity(n * IMAGE_PIXELS);
        let mut labels = Vec::with_capacity(n);
        for item in &items {
            pixels.extend(item.pixels.iter().map(|&p| p as f32 * factor));
            labels.push(item.label as i64);
        }
        MnistBatch {
            images: Tensor::from_data(TensorData::new(pixels, [n, IMAGE_PIXELS]), device),
            targets: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}
