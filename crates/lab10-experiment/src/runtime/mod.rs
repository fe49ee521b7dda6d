//! Where the tensors live: the backends, the CPU threads they compute on, and workers on
//! other machines.

pub mod backend;
pub mod compute;
pub mod cpu;
pub mod remote;
