//! The image a lab model reads: MNIST's 28x28 grey levels, and a drawing turned into one.
//!
//! - [`prepare`]: a drawing into MNIST's format (the one place lab10 does it).
//! - [`page`]: the drawing page's script and style (`www/`), which `lab10 serve` serves.

pub mod prepare;

/// The drawing page of `lab10 serve`: the pad, the 28x28 image the models read, the table of
/// models and their probability bars (`www/pad.js`, an ES module), and the stylesheet.
pub mod page {
    pub const PAD_SCRIPT: &str = include_str!("../www/pad.js");
    pub const STYLE: &str = include_str!("../www/style.css");
}

pub use prepare::{mnistify, mnistify_canvas};

/// The side of an MNIST image.
pub const IMAGE_SIDE: usize = 28;
/// Pixels in an MNIST image, row by row.
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// The classes of every dataset of MNIST's format (digits, or Fashion-MNIST's ten garments).
pub const NUM_CLASSES: usize = 10;
