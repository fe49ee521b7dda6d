//! Model exchange: a run's model written for other tools, safetensors for PyTorch and NumPy
//! (`interop.rs`, with PyTorch weights imported as a run) and ONNX for ONNX Runtime
//! (`onnx.rs`). Each checks its output against what lab10 computes (scripts/check-export.py,
//! scripts/check-onnx.py).

mod interop;
pub mod onnx;

pub use interop::{export, import_run};
pub use onnx::{OnnxFacts, export_onnx, write_mlflow_model};

/// Refuses to replace an existing `out` unless `force`.
fn refuse_existing(out: &std::path::Path, force: bool) -> lab10_runs::Result<()> {
    if out.exists() && !force {
        return Err(lab10_runs::Error::Invalid(format!(
            "{} already exists; pass --force to replace it",
            out.display()
        )));
    }
    Ok(())
}
