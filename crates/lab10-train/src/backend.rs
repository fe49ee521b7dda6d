//! The one place that names backends. Which ones exist is decided by cargo features; which one
//! runs is decided at run time by `--backend`. Everything else works with a plain `Device`.

use std::fmt;
use std::str::FromStr;

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// burn-flex: Burn's portable pure-Rust CPU backend (gemm + SIMD + rayon). The fastest here.
    Flex,
    /// burn-ndarray: the classic CPU backend (deprecated upstream, kept working).
    Ndarray,
}

impl BackendKind {
    pub const ALL: [BackendKind; 2] = [BackendKind::Flex, BackendKind::Ndarray];

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Ndarray => "ndarray",
        }
    }

    /// The cargo feature (of the `lab10` package) that compiles this backend in.
    pub fn feature(self) -> &'static str {
        self.name()
    }

    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Flex => cfg!(feature = "flex"),
            BackendKind::Ndarray => cfg!(feature = "ndarray"),
        }
    }

    pub fn compiled() -> Vec<BackendKind> {
        Self::ALL.into_iter().filter(|b| b.is_compiled()).collect()
    }

    /// The first compiled-in backend, in the order of [`BackendKind::ALL`] (fastest first).
    pub fn default_compiled() -> Option<BackendKind> {
        Self::compiled().into_iter().next()
    }

    /// Builds the (non-autodiff) device explicitly: `Device::default()` would silently prefer
    /// whatever burn-train compiles in (Flex) over the backend asked for.
    pub fn device(self) -> Result<Device, Error> {
        match self {
            #[cfg(feature = "flex")]
            BackendKind::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            BackendKind::Ndarray => Ok(Device::ndarray()),
            #[allow(unreachable_patterns)]
            other => Err(Error::BackendNotCompiled {
                name: other.name().into(),
                feature: other.feature(),
                compiled: Self::compiled()
                    .iter()
                    .map(|b| b.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::UnknownBackend(s.to_string()))
    }
}
