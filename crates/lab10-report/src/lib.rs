//! Reports people look at: loss and accuracy curves of several runs overlaid, a confusion
//! matrix and a grid of misclassified digits per run, and a table of the runs beside the
//! lesson's reference numbers, as `index.html` (self-contained) and `README.md`, with every
//! picture also written as SVG and PNG.

pub mod charts;
pub mod confusion;
pub mod digits;
pub mod page;
pub mod render;
pub mod runs;

pub use confusion::ConfusionMatrix;
pub use page::{test_pictures, write_report};
pub use runs::RunData;

/// Whether `classes` are names (Fashion-MNIST's), not digits: pictures then give them room.
fn named(classes: &[&str]) -> bool {
    classes.iter().any(|c| c.len() > 1)
}
