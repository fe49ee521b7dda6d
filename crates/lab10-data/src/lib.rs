//! The lab's data: named datasets of MNIST's format (MNIST, Fashion-MNIST) with their known
//! digests and class names, the IDX file format, where to find the files (or fetch them) and
//! the record a run keeps of its data. No Burn: lab10-models' `data` feature wraps a split in
//! Burn's `Dataset` and `Batcher`, so this crate compiles while Burn does.
//!
//! Nothing here knows about models, training or the command line.

pub mod atomic;
pub mod catalog;
pub mod error;
pub mod fetch;
pub mod idx;
pub mod mnist;
pub mod source;

pub use catalog::{CUSTOM, DatasetSpec, FASHION_MNIST, KNOWN, MNIST, class_names};
pub use error::DataError;
pub use fetch::{DataLocation, Places};
pub use mnist::{IMAGE_PIXELS, IMAGE_SIDE, Mnist, MnistFile, NUM_CLASSES, Split};
pub use source::{DataRecord, DataRequest, LoadedData, Wanted};
