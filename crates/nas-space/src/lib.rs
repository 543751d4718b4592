//! Search spaces. Each space is a plugin registered by name; the NAS-Bench-201 cell space
//! is the first. Spaces will also build their networks and supernets here, so that every
//! method shares one model vocabulary; until then this crate needs no tensors.

pub mod nb201;
pub mod nb201_cost;
#[cfg(feature = "nn")]
pub mod nn;

pub use nb201::{Nb201Space, Nb201SpaceConfig};
pub use nb201_cost::{Cost, Nb201NetConfig};
