//! [`Compute`], what training, evaluation and studies are told to compute on: one of this
//! machine's backends (`backend.rs`) or a worker's device (`remote.rs`).

use crate::runtime::backend::{BackendKind, ComputeDevice};
use crate::runtime::remote::RemoteTarget;
use lab10_runs::Error;

/// Where a command computes: a backend of this machine (`--backend`), or the device a
/// `lab10 worker` serves (`--remote ws://host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compute {
    Local(BackendKind),
    Remote(RemoteTarget),
}

impl Compute {
    /// What runs record as their backend: the local backend's name, or `remote` (Burn's
    /// handshake does not say which backend a worker serves; report.json's `device` names it).
    pub fn name(&self) -> &str {
        match self {
            Compute::Local(kind) => kind.name(),
            Compute::Remote(_) => "remote",
        }
    }

    pub fn open(&self) -> Result<ComputeDevice, Error> {
        match self {
            Compute::Local(kind) => kind.open(),
            Compute::Remote(target) => target.open(),
        }
    }
}

impl From<BackendKind> for Compute {
    fn from(kind: BackendKind) -> Self {
        Compute::Local(kind)
    }
}
