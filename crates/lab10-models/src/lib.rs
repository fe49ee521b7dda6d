//! The lab-10 classifiers. One Burn module, [`Mlp`], covers all of them: softmax regression is
//! an `Mlp` with no hidden layer, `nn`/`xavier` have two of 256, `deep`/`dropout` four of 512.
//! What differs between the lesson's models is configuration ([`MlpConfig`]), never code.
//!
//! The lesson's ideas by file: `init.rs` (the initialisers: normal(0, 1), Xavier, He),
//! `activation.rs` (ReLU, sigmoid, tanh), `dropout.rs`, `mlp.rs` (the network), `step.rs` (a
//! training step), `rbm.rs` (RBM pre-training's CD-1).

pub mod activation;
pub mod config;
mod dropout;
pub mod init;
pub mod mlp;
pub mod rbm;
#[cfg(feature = "train")]
pub mod step;
pub mod summary;

pub use activation::ActivationKind;
pub use config::{ConfigError, MlpConfig};
pub use init::Init;
pub use mlp::Mlp;
#[cfg(feature = "train")]
pub use step::StepOutput;
pub use summary::{LayerSummary, ModelSummary};
