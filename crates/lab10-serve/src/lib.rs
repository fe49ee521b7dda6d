//! `lab10 serve`: the lesson's trained models read a digit drawn in the browser, side by side.
//! A drawing is put into MNIST's format by lab10-image.
//!
//! - [`models`]: the runs served, loaded once, and their predictions.
//! - [`api`]: the page and the JSON API (axum), with a JSON error for every bad request.

pub mod api;
pub mod models;

use std::future::Future;
use std::sync::Arc;

pub use api::{Options, router};
pub use models::{ModelInfo, ModelPrediction, Served};

/// Serves `served` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    served: Arc<Served>,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(served, options))
        .with_graceful_shutdown(shutdown)
        .await
}
