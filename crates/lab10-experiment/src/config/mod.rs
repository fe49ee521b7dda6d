//! What an experiment says: the TOML file, its optimiser and its pre-training.

pub mod experiment;
pub mod optimizer;
pub mod pretrain;
