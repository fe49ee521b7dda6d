//! The lab's data: named datasets of MNIST's format (MNIST, Fashion-MNIST) with their known
//! digests and class names, the IDX file format, where to find the files (or fetch them), the
//! record a run keeps of its data, and the Burn `Dataset`/`Batcher` that feed a model.
//!
//! Nothing here knows about models, training or the command line.

pub mod atomic;
pub mod batcher;
pub mod catalog;
pub mod dataset;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod mnist;
pub mod source;

pub use batcher::{MnistBatch, MnistBatcher, PixelScale};
pub use catalog::{CUSTOM, DatasetSpec, FASHION_MNIST, KNOWN, MNIST, class_names};
pub use dataset::{MnistDataset, MnistItem};
pub use error::DataError;
pub use fetch::{DataLocation, Places};
pub use mnist::{IMAGE_PIXELS, IMAGE_SIDE, Mnist, MnistFile, NUM_CLASSES, Split};
pub use source::{DataRecord, DataRequest, LoadedData, Wanted};
