//! MNIST for the lab: the IDX file format, the four standard files with their known digests,
//! where to find them (or fetch them), and the Burn `Dataset`/`Batcher` that feed a model.
//!
//! Nothing here knows about models, training or the command line.

pub mod atomic;
pub mod batcher;
pub mod dataset;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod mnist;

pub use batcher::{MnistBatch, MnistBatcher, PixelScale};
pub use dataset::{MnistDataset, MnistItem};
pub use error::DataError;
pub use fetch::{DataLocation, Verification, locate};
pub use mnist::{IMAGE_PIXELS, IMAGE_SIDE, Mnist, MnistFile, NUM_CLASSES, Split};
