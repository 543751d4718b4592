//! The `ndarray` backend: burn's ndarray CPU backend (multi-threaded with rayon, SIMD),
//! the framework's default. burn 0.22 deprecates it in favour of flex; it stays the
//! default here until flex is measured faster on our networks (`cargo xtask bench train`).

use burn::tensor::Device;
use nas_space::nn::BackendPlugin;

#[allow(deprecated)] // The one place the deprecated constructor is used.
fn device() -> Result<Device, String> {
    Ok(Device::ndarray())
}

inventory::submit! {
    BackendPlugin {
        name: "ndarray",
        summary: "CPU, burn-ndarray (rayon + SIMD); the default.",
        device,
    }
}
