//! Backends as plugins: a crate registers a name and a function that returns a burn
//! `Device` (or says why it cannot, e.g. no GPU adapter). `--backend NAME` picks one.

use burn::tensor::Device;

/// A registered backend.
#[derive(Debug)]
pub struct BackendPlugin {
    pub name: &'static str,
    pub summary: &'static str,
    /// The device, or why this machine cannot provide it.
    pub device: fn() -> Result<Device, String>,
}

inventory::collect!(BackendPlugin);

/// A backend that is unknown or unavailable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    #[error("unknown backend `{name}`; available: {}", available.join(", "))]
    Unknown {
        name: String,
        available: Vec<&'static str>,
    },
    #[error("backend `{name}`: {reason}")]
    Unavailable { name: String, reason: String },
}

/// Every registered backend, by name.
pub fn backend_names() -> Vec<&'static BackendPlugin> {
    let mut all: Vec<&'static BackendPlugin> =
        inventory::iter::<BackendPlugin>.into_iter().collect();
    all.sort_by_key(|b| b.name);
    all
}

/// The device of the backend `name`.
///
/// # Errors
/// An unknown name (listing the known ones) or a backend this machine cannot run.
pub fn device(name: &str) -> Result<Device, BackendError> {
    let all = backend_names();
    let plugin = all
        .iter()
        .find(|b| b.name == name)
        .ok_or_else(|| BackendError::Unknown {
            name: name.to_string(),
            available: all.iter().map(|b| b.name).collect(),
        })?;
    (plugin.device)().map_err(|reason| BackendError::Unavailable {
        name: name.to_string(),
        reason,
    })
}
