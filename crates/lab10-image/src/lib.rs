//! The image a lab model reads: MNIST's 28x28 grey levels, and a drawing turned into one.
//!
//! No dependencies, so that the same code runs in `lab10 serve` (native) and in the browser
//! (`lab10 site`, compiled to WebAssembly by crates/lab10-site/wasm): what the models see of a
//! drawing never depends on where they run.
//!
//! - [`prepare`]: a drawing into MNIST's format (the one place lab10 does it).
//! - [`page`]: the drawing page's script and style (`www/`), which `lab10 serve` and `lab10 site`
//!   both serve.

pub mod prepare;

/// The drawing page that `lab10 serve` and `lab10 site` share: the pad, the 28x28 image the
/// models read, the table of models and their probability bars (`www/pad.js`, an ES module),
/// and the stylesheet of both pages. Each page adds only where a prediction comes from.
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
