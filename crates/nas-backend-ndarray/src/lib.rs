//! The `ndarray` backend: burn's ndarray CPU backend (multi-threaded with rayon, SIMD).
//! burn 0.22 deprecates it in favour of flex, which trains our networks many times faster
//! (`cargo xtask bench train`), so the training evaluator defaults to flex; ndarray stays
//! registered as the reference CPU backend that the others are checked against.

use burn::tensor::Device;
use nas_nn::BackendPlugin;

#[allow(deprecated)] // The one place the deprecated constructor is used.
fn device() -> Result<Device, String> {
    Ok(Device::ndarray())
}

inventory::submit! {
    BackendPlugin {
        name: "ndarray",
        summary: "CPU, burn-ndarray (rayon + SIMD); the reference CPU backend.",
        device,
    }
}
