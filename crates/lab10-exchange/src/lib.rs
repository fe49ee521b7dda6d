//! Model exchange: a run's model written for other tools, safetensors for PyTorch and NumPy
//! (`interop.rs`, with PyTorch weights imported as a run) and ONNX for ONNX Runtime
//! (`onnx.rs`). Each checks its output against what lab10 computes (scripts/check-export.py,
//! scripts/check-onnx.py).

mod interop;
pub mod onnx;

pub use interop::{export, import_run};
pub use onnx::{OnnxFacts, export_onnx};
