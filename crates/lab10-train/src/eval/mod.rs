//! Saved models at work: test-set evaluation, predictions, and moving weights to and from
//! PyTorch (safetensors).

pub mod evaluate;
pub mod interop;
pub mod saved;
