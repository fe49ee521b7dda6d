//! Where the tensors live: the backends, and the CPU threads they compute on.

pub mod backend;
pub mod cpu;
