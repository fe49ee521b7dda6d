//! The lab-10 classifiers. One Burn module, [`Mlp`], covers all of them: softmax regression is
//! an `Mlp` with no hidden layer, `nn`/`xavier` have two of 256, `deep`/`dropout` four of 512.
//! What differs between the lesson's models is configuration ([`MlpConfig`]), never code.
//!
//! The lesson's ideas by file: `init.rs` (the initialisers: normal(0, 1), Xavier, He),
//! `activation.rs` (ReLU, sigmoid, tanh), `dropout.rs`, `mlp.rs` (the network), `dataset.rs` and `batcher.rs` (Burn's Dataset and Batcher over
//! lab10-data's splits), `step.rs` (a
//! training step), `rbm.rs` (RBM pre-training's CD-1).

pub mod activation;
#[cfg(feature = "data")]
pub mod batcher;
pub mod config;
#[cfg(feature = "data")]
pub mod dataset;
mod dropout;
pub mod init;
pub mod mlp;
pub mod rbm;
#[cfg(feature = "train")]
pub mod step;
pub mod summary;

pub use activation::ActivationKind;
#[cfg(feature = "data")]
pub use batcher::{MnistBatch, MnistBatcher, PixelScale};
pub use config::{ConfigError, MlpConfig};
#[cfg(feature = "data")]
pub use dataset::{MnistDataset, MnistItem};
pub use init::Init;
pub use mlp::Mlp;
#[cfg(feature = "train")]
pub use step::StepOutput;
pub use summary::{LayerSummary, ModelSummary};
