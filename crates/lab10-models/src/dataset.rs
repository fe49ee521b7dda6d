//! MNIST through Burn's dataset API. Items are copied out of the split's contiguous buffer
//! into a fixed-size array, so building a batch allocates nothing per image.

use std::sync::Arc;

use burn::data::dataset::{Dataset, DatasetError};

use lab10_data::{IMAGE_PIXELS, Mnist};

#[derive(Debug, Clone)]
pub struct MnistItem {
    pub pixels: [u8; IMAGE_PIXELS],
    pub label: u8,
}

/// A cheap-to-clone view of a decoded split.
#[derive(Debug, Clone)]
pub struct MnistDataset {
    split: Arc<Mnist>,
}

impl MnistDataset {
    pub fn new(split: Mnist) -> Self {
        Self {
            split: Arc::new(split),
        }
    }

    pub fn mnist(&self) -> &Mnist {
        &self.split
    }
}

impl Dataset<MnistItem> for MnistDataset {
    fn get(&self, index: usize) -> Result<MnistItem, DatasetError> {
        // Out-of-range indices panic, as the trait documents (slice indexing does it for us).
        Ok(MnistItem {
            pixels: self.split.image(index).try_into().expect("784 pixels"),
            label: self.split.labels[index],
        })
    }

    fn len(&self) -> usize {
        self.split.len()
    }
}
