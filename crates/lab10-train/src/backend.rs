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
    /// burn-flex: Burn's portable pure-Rust CPU backend (gemm + SIMD + rayon). The fastest CPU
    /// backend here.
    Flex,
    /// burn-ndarray: the classic CPU backend (deprecated upstream, kept working).
    Ndarray,
    /// burn-wgpu: GPUs through wgpu (Vulkan, Metal, DX12); on a machine without a GPU, Mesa's
    /// software Vulkan driver (lavapipe) runs it on the CPU.
    Wgpu,
}

/// A ready device and what it is, for logs and reports.
#[derive(Debug, Clone)]
pub struct ComputeDevice {
    pub kind: BackendKind,
    pub device: Device,
    /// `Device<Flex(Cpu)>`, or for wgpu the adapter: `NVIDIA H100 (Vulkan, DiscreteGpu)`.
    pub description: String,
}

impl BackendKind {
    /// Fastest CPU backend first: the default is the first one compiled in.
    pub const ALL: [BackendKind; 3] = [BackendKind::Flex, BackendKind::Ndarray, BackendKind::Wgpu];

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Flex => "flex",
            BackendKind::Ndarray => "ndarray",
            BackendKind::Wgpu => "wgpu",
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
            BackendKind::Wgpu => cfg!(feature = "wgpu"),
        }
    }

    pub fn compiled() -> Vec<BackendKind> {
        Self::ALL.into_iter().filter(|b| b.is_compiled()).collect()
    }

    pub fn default_compiled() -> Option<BackendKind> {
        Self::compiled().into_iter().next()
    }

    /// The (non-autodiff) device, built explicitly: `Device::default()` would silently prefer
    /// whatever burn-train compiles in (Flex) over the backend asked for.
    pub fn device(self) -> Result<Device, Error> {
        self.open().map(|d| d.device)
    }

    /// The device with a description of the hardware behind it.
    // With every backend compiled in, the fallback arm is unreachable; with some left out, not.
    #[allow(unreachable_code)]
    pub fn open(self) -> Result<ComputeDevice, Error> {
        let (device, description) = match self {
            #[cfg(feature = "flex")]
            BackendKind::Flex => {
                let d = Device::flex();
                let text = format!("{d:?}");
                (d, text)
            }
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            BackendKind::Ndarray => {
                let d = Device::ndarray();
                let text = format!("{d:?}");
                (d, text)
            }
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu => wgpu::device()?,
            #[allow(unreachable_patterns)]
            other => return Err(other.not_compiled()),
        };
        Ok(ComputeDevice {
            kind: self,
            device,
            description,
        })
    }

    fn not_compiled(self) -> Error {
        Error::BackendNotCompiled {
            name: self.name().into(),
            feature: self.feature(),
            compiled: Self::compiled()
                .iter()
                .map(|b| b.name())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

#[cfg(feature = "wgpu")]
mod wgpu {
    use std::sync::OnceLock;

    use burn::prelude::Device;

    use crate::error::Error;

    /// wgpu's runtime can be initialised once per process; every caller shares that device.
    pub fn device() -> Result<(Device, String), Error> {
        static DEVICE: OnceLock<Result<(Device, String), String>> = OnceLock::new();
        DEVICE
            .get_or_init(|| {
                Device::wgpu_options()
                    .init_with_setup()
                    .map(|(device, setup)| {
                        let info = setup.adapter.get_info();
                        let text = format!(
                            "{device:?} on {} ({:?}, {:?})",
                            info.name, info.backend, info.device_type
                        );
                        (device, text)
                    })
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|message| Error::BackendUnavailable {
                name: "wgpu",
                message: format!(
                    "{message}. wgpu needs a GPU driver; on a Linux machine without a GPU, \
                     install Mesa's software Vulkan driver: \
                     `apt-get install mesa-vulkan-drivers libvulkan1`"
                ),
            })
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
