//! The `wgpu` backend: burn's wgpu backend on the first graphics adapter the machine offers.
//!
//! wgpu panics deep inside when a device is opened on a machine without any adapter, so the
//! adapters are listed first (`Device::enumerate`), and none gives a clear error instead.
//! On a machine without a GPU, Mesa's lavapipe (Debian: `mesa-vulkan-drivers`) is a
//! Vulkan adapter on the CPU: slow, but enough to check that the backend computes what the
//! CPU backends do.

use burn::tensor::{Device, DeviceType};
use nas_space::nn::BackendPlugin;

/// What `--backend wgpu` says where there is nothing to run on.
pub const NO_ADAPTER: &str = "no GPU adapter: wgpu found no Vulkan, Metal, DX12 or GL adapter on this machine (install the GPU's driver, or Mesa's CPU Vulkan driver: apt-get install mesa-vulkan-drivers), or choose a CPU backend (flex, ndarray)";

/// The first wgpu adapter, or [`NO_ADAPTER`].
///
/// # Errors
/// When the machine has no adapter.
pub fn first_adapter() -> Result<Device, String> {
    pick(Device::enumerate(DeviceType::Wgpu))
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

inventory::submit! {
    BackendPlugin {
        name: "wgpu",
        summary: "GPU through wgpu (Vulkan, Metal, DX12; lavapipe on a CPU).",
        device: first_adapter,
    }
}
