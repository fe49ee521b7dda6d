//! One function per command of `lab10`: each resolves its flags (`crate::cli`), calls the
//! library and prints what came back.

mod info;
mod interop;
mod mlflow;
mod report;
mod saved;
mod serve;
mod site;
mod train;
mod verify;
mod worker;

pub use info::{backends, datasets, list, summary};
pub use interop::{export, import};
pub use mlflow::mlflow_sync;
pub use report::report;
pub use saved::{eval, predict};
pub use serve::serve;
pub use site::site;
pub use train::{ensemble, train};
pub use verify::verify;
pub use worker::worker;
