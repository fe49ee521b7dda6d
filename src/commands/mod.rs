//! One function per command of `lab10`.

pub mod info;
pub mod interop;
pub mod mlflow;
pub mod report;
pub mod saved;
pub mod serve;
pub mod train;
pub mod verify;
pub mod worker;
