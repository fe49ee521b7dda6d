//! The image a lab model reads: MNIST's 28x28 grey levels, and a drawing turned into one.
//!
//! No dependencies, so that the same code runs in `lab10 serve` (native) and in the browser
//! (`lab10 site`, compiled to WebAssembly by crates/lab10-site/wasm): what the models see of a
//! drawing never depends on where they run.
//!
//! - [`prepare`]: a drawing into MNIST's format (the one place lab10 does it).

pub mod prepare;

pub use prepare::{mnistify, mnistify_canvas};

/// The side of an MNIST image.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in an MNIST image, row by row.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// The classes of every dataset of MNIST's format (digits, or Fashion-MNIST's ten garments).
pub const NUM_CLASSES: usize = 10;
