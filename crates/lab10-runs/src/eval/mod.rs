//! Saved models at work: evaluating a saved run or model file on the test set (through
//! `evaluate.rs`, as training does), predictions, and moving weights to and from PyTorch
//! (safetensors) and out to ONNX.

pub mod interop;
pub mod onnx;
pub mod saved;
