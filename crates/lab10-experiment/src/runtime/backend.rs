//! The one place that names backends. Which ones exist is decided by cargo features; which one
//! runs is decided at run time by `--backend`. Everything else works with a plain `Device`.

use std::fmt;
use std::str::FromStr;

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use lab10_runs::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// burn-flex: Burn's portable pure-Rust CPU backend (gemm + SIMD + rayon), the fastest here.
    Flex,
    /// burn-ndarray: the classic CPU backend (deprecated upstream, kept working).
    Ndarray,
    /// burn-wgpu: GPUs through wgpu (Vulkan, Metal, DX12; wgpu picks), with Burn's fusion and
    /// autotuning; kernels in SPIR-V on Vulkan with the `vulkan` feature, else WGSL.
    Wgpu,
    /// wgpu pinned to Vulkan, kernels in SPIR-V (the `vulkan` feature): Vulkan or nothing.
    Vulkan,
}

/// A ready device and what it is, for logs and reports.
#[derive(Debug, Clone)]
pub struct ComputeDevice {
    pub device: Device,
    /// `Device<Flex(Cpu)>`, for wgpu the adapter: `NVIDIA H100 (Vulkan, DiscreteGpu)`, for a
    /// worker's device its address.
    pub description: String,
}

impl BackendKind {
    /// Fastest CPU backend first: the default is the first one compiled in.
    pub const ALL: [BackendKind; 4] = [
        BackendKind::Flex,
        BackendKind::Ndarray,
        BackendKind::Wgpu,
        BackendKind::Vulkan,
    ];

    /// Its name, the cargo feature of the `lab10` package that compiles it in (wgpu at full
    /// speed: with Burn's fusion and autotuning), and whether this build has it.
    fn facts(self) -> (&'static str, &'static str, bool) {
        match self {
            BackendKind::Flex => ("flex", "flex", cfg!(feature = "flex")),
            BackendKind::Ndarray => ("ndarray", "ndarray", cfg!(feature = "ndarray")),
            BackendKind::Wgpu => ("wgpu", "gpu", cfg!(feature = "wgpu")),
            BackendKind::Vulkan => ("vulkan", "gpu,vulkan", cfg!(feature = "vulkan")),
        }
    }

    pub fn name(self) -> &'static str {
        self.facts().0
    }

    pub fn feature(self) -> &'static str {
        self.facts().1
    }

    pub fn is_compiled(self) -> bool {
        self.facts().2
    }

    pub fn default_compiled() -> Option<BackendKind> {
        Self::ALL.into_iter().find(|b| b.is_compiled())
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
            BackendKind::Flex => described(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            BackendKind::Ndarray => described(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            BackendKind::Wgpu => wgpu::device(wgpu::Api::Auto)?,
            #[cfg(feature = "vulkan")]
            BackendKind::Vulkan => wgpu::device(wgpu::Api::Vulkan)?,
            #[allow(unreachable_patterns)]
            other => return Err(other.not_compiled()),
        };
        Ok(ComputeDevice {
            device,
            description,
        })
    }

    fn not_compiled(self) -> Error {
        Error::BackendNotCompiled {
            name: self.name().into(),
            feature: self.feature(),
            compiled: Self::ALL
                .into_iter()
                .filter(|b| b.is_compiled())
                .map(|b| b.name())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// A CPU device, described as Burn prints it: `Device<Flex(Cpu)>`.
#[cfg(any(feature = "flex", feature = "ndarray"))]
fn described(device: Device) -> (Device, String) {
    (device.clone(), format!("{device:?}"))
}

#[cfg(feature = "wgpu")]
mod wgpu {
    use std::sync::OnceLock;

    use burn::prelude::Device;
    use burn::tensor::wgpu::WgpuBackend;

    use lab10_runs::Error;

    #[derive(Clone, Copy, PartialEq, Eq)]
    pub enum Api {
        Auto,
        #[cfg_attr(not(feature = "vulkan"), allow(dead_code))]
        Vulkan,
    }

    type Opened = Result<(Device, String), String>;

    /// wgpu's runtime is initialised once per process and selector; every caller shares it.
    pub fn device(api: Api) -> Result<(Device, String), Error> {
        static AUTO: OnceLock<Opened> = OnceLock::new();
        static VULKAN: OnceLock<Opened> = OnceLock::new();
        let (cell, name, or_else) = match api {
            Api::Auto => (&AUTO, "wgpu", " (or Metal, DX12)"),
            Api::Vulkan => (&VULKAN, "vulkan", ""),
        };
        cell.get_or_init(|| open(api))
            .clone()
            .map_err(|message| Error::BackendUnavailable {
                name,
                message: format!(
                    "{message}. {name} needs a GPU driver with Vulkan{or_else}; on a Linux \
                     machine without a GPU, install Mesa's software Vulkan driver: \
                     `apt-get install mesa-vulkan-drivers libvulkan1`"
                ),
            })
    }

    fn open(api: Api) -> Opened {
        let mut options = Device::wgpu_options();
        if api == Api::Vulkan {
            options = options.graphics_api(WgpuBackend::Vulkan);
        }
        let (device, setup) = options.init_with_setup().map_err(|e| e.to_string())?;
        let info = setup.adapter.get_info();
        if spirv(&info) && info.device_type == burn::tensor::wgpu::wgpu::DeviceType::Cpu {
            // Both Mesa 22.3.6 (Debian 12) and 25.0.7 (bookworm-backports) segfault in
            // vkCreateComputePipelines on cubecl's SPIR-V matmul kernels (docs/gpu.md).
            return Err(format!(
                "{} is a software Vulkan driver, whose compiler crashes on the SPIR-V kernels \
                 of a build with the `vulkan` feature; build without it (the default) to use \
                 wgpu's WGSL path there",
                info.name
            ));
        }
        let text = describe(&device, &info);
        Ok((device, text))
    }

    /// cubecl compiles to SPIR-V on Vulkan in a build with the `vulkan` feature, else to WGSL.
    fn spirv(info: &burn::tensor::wgpu::wgpu::AdapterInfo) -> bool {
        cfg!(feature = "vulkan") && info.backend == burn::tensor::wgpu::wgpu::Backend::Vulkan
    }

    /// `Device(..) on NVIDIA H200 (Vulkan, DiscreteGpu; SPIR-V, fusion, autotune)`.
    fn describe(device: &Device, info: &burn::tensor::wgpu::wgpu::AdapterInfo) -> String {
        let mut features = vec![if spirv(info) { "SPIR-V" } else { "WGSL" }];
        if cfg!(feature = "fusion") {
            features.push("fusion");
        }
        if cfg!(feature = "autotune") {
            features.push("autotune");
        }
        format!(
            "{device:?} on {} ({:?}, {:?}; {})",
            info.name,
            info.backend,
            info.device_type,
            features.join(", ")
        )
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
