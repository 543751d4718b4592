//! The `flex` backend: burn's pure-Rust CPU backend, the successor of ndarray.

use burn::tensor::Device;
use nas_nn::BackendPlugin;

fn device() -> Result<Device, String> {
    Ok(Device::flex())
}

inventory::submit! {
    BackendPlugin {
        name: "flex",
        summary: "CPU, burn-flex (pure Rust).",
        device,
    }
}
