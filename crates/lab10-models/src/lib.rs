//! The lab-10 classifiers. One Burn module, [`Mlp`], covers all of them: softmax regression is
//! an `Mlp` with no hidden layer, `nn`/`xavier` have two of 256, `deep`/`dropout` four of 512.
//! What differs between the lesson's models is configuration ([`MlpConfig`]), never code.

pub mod config;
pub mod init;
pub mod mlp;
pub mod rbm;
pub mod step;
pub mod summary;

pub use config::{ActivationKind, ConfigError, MlpConfig};
pub use init::Init;
pub use mlp::Mlp;
pub use step::StepOutput;
pub use summary::{LayerSummary, ModelSummary};
