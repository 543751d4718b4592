//! The `wgpu` backend: burn's wgpu backend on the first graphics adapter the machine offers.
//!
//! wgpu panics deep inside when a device is opened on a machine without any adapter, so the
//! adapters are listed first (`Device::enumerate`), and none gives a clear error instead.
//! On a machine without a GPU, Mesa's lavapipe (Debian: `mesa-vulkan-drivers`) is a
//! Vulkan adapter on the CPU: slow, but enough to check that the backend computes what the
//! CPU backends do.
//!
//! Which adapter runs the work is said once per process on stderr (name, graphics API,
//! device type), with a warning when it is a CPU or software adapter (lavapipe, Mesa's
//! llvmpipe behind OpenGL): those train far slower than the CPU backends, and without a
//! word a user would only see a search that crawls.

use burn::tensor::wgpu::wgpu;
use burn::tensor::{Device, DeviceType};
use nas_nn::BackendPlugin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

/// What `--backend wgpu` says where there is nothing to run on.
pub const NO_ADAPTER: &str = "no GPU adapter: wgpu found no Vulkan, Metal, DX12 or GL adapter on this machine (install the GPU's driver, or Mesa's CPU Vulkan driver: apt-get install mesa-vulkan-drivers), or choose a CPU backend (flex, ndarray)";

/// The first wgpu adapter, or [`NO_ADAPTER`]; the first call in a process names the
/// adapter on stderr (see [`announce`]).
///
/// # Errors
/// When the machine has no adapter.
pub fn first_adapter() -> Result<Device, String> {
    // Probed before burn opens anything, and once: the Vulkan loader does not like
    // instances made on several threads at once, and trials ask for the device in parallel.
    let adapter = picked_adapter();
    let device = pick(Device::enumerate(DeviceType::Wgpu))?;
    announce(adapter.as_ref());
    Ok(device)
}

/// The first of the adapters found, or [`NO_ADAPTER`] where none was.
///
/// # Errors
/// When `adapters` is empty.
pub fn pick(adapters: impl IntoIterator<Item = Device>) -> Result<Device, String> {
    adapters
        .into_iter()
        .next()
        .ok_or_else(|| NO_ADAPTER.to_string())
}

/// An adapter as wgpu describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    /// As the driver names it: `NVIDIA H100 PCIe`, `llvmpipe (LLVM 15.0.6, 256 bits)`.
    pub name: String,
    /// The graphics API: `Vulkan`, `Metal`, `Dx12`, `Gl`.
    pub backend: String,
    /// `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu` or `Other`.
    pub device_type: String,
    /// A CPU or software rasterizer (wgpu's `DeviceType::Cpu`).
    pub software: bool,
}

impl AdapterSummary {
    pub fn new(name: &str, backend: wgpu::Backend, device_type: wgpu::DeviceType) -> Self {
        AdapterSummary {
            name: name.to_string(),
            backend: format!("{backend:?}"),
            device_type: format!("{device_type:?}"),
            software: device_type == wgpu::DeviceType::Cpu,
        }
    }

    /// `wgpu: adapter `NAME` (Vulkan, DiscreteGpu)`.
    pub fn describe(&self) -> String {
        format!(
            "wgpu: adapter `{}` ({}, {})",
            self.name, self.backend, self.device_type
        )
    }

    /// The warning a CPU or software adapter deserves; `None` for a GPU.
    pub fn warning(&self) -> Option<String> {
        self.software.then(|| {
            format!(
                "warning: wgpu runs on `{}` ({}, {}), a CPU or software adapter, not a GPU: expect training many times slower than on the CPU backend flex (the evaluator's field `backend`, e.g. `--set evaluator.backend=flex`); install the GPU's driver to use a GPU",
                self.name, self.backend, self.device_type
            )
        })
    }
}

/// The adapter the `wgpu` backend runs on, as wgpu describes it; `None` without one.
///
/// It mirrors burn's choice (cubecl's automatic graphics API): the first API of Vulkan,
/// DX12, OpenGL (Metal on macOS) that has a GPU, or failing that the first with any
/// adapter; on it, the first adapter listed, which is the first device
/// `Device::enumerate` returns.
pub fn picked_adapter() -> Option<AdapterSummary> {
    static PICKED: OnceLock<Option<AdapterSummary>> = OnceLock::new();
    PICKED.get_or_init(probe).clone()
}

fn probe() -> Option<AdapterSummary> {
    let apis: &[wgpu::Backend] = if cfg!(target_os = "macos") {
        &[wgpu::Backend::Metal]
    } else {
        &[
            wgpu::Backend::Vulkan,
            wgpu::Backend::Dx12,
            wgpu::Backend::Gl,
        ]
    };
    let mut software_only = None;
    for &api in apis {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: api.into(),
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapters: Vec<wgpu::AdapterInfo> = block_on(instance.enumerate_adapters(api.into()))
            .iter()
            .map(wgpu::Adapter::get_info)
            .collect();
        let Some(first) = adapters.first() else {
            continue;
        };
        let summary = AdapterSummary::new(&first.name, first.backend, first.device_type);
        if adapters
            .iter()
            .any(|a| a.device_type != wgpu::DeviceType::Cpu)
        {
            return Some(summary);
        }
        software_only.get_or_insert(summary);
    }
    software_only
}

/// Says once per process which adapter runs the work, and warns when it is a CPU or
/// software one.
pub fn announce(adapter: Option<&AdapterSummary>) {
    static ONCE: OnceLock<()> = OnceLock::new();
    let Some(adapter) = adapter else { return };
    ONCE.get_or_init(|| {
        eprintln!("{}", adapter.describe());
        if let Some(warning) = adapter.warning() {
            eprintln!("{warning}");
        }
    });
}

/// Wakes the thread that waits in [`block_on`].
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread (wgpu's adapter listing is a future that is
/// ready at once on native platforms; this keeps an executor out of the dependencies).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

inventory::submit! {
    BackendPlugin {
        name: "wgpu",
        summary: "GPU through wgpu (Vulkan, Metal, DX12; lavapipe on a CPU).",
        device: first_adapter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_adapters_are_named_and_warned_about() {
        let soft = AdapterSummary::new(
            "llvmpipe (LLVM 15.0.6, 256 bits)",
            wgpu::Backend::Gl,
            wgpu::DeviceType::Cpu,
        );
        assert_eq!(
            soft.describe(),
            "wgpu: adapter `llvmpipe (LLVM 15.0.6, 256 bits)` (Gl, Cpu)"
        );
        let w = soft.warning().unwrap_or_default();
        assert!(w.starts_with("warning:") && w.contains("llvmpipe"), "{w}");
        assert!(w.contains("flex"), "{w}");
        let gpu = AdapterSummary::new(
            "NVIDIA H200",
            wgpu::Backend::Vulkan,
            wgpu::DeviceType::DiscreteGpu,
        );
        assert_eq!(gpu.warning(), None);
        assert!(gpu.describe().contains("(Vulkan, DiscreteGpu)"));
    }
}
