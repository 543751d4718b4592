//! Networks built from genotypes, and the registry of burn backends (feature `nn`).
//!
//! Model code is written once against burn's run-time `Device`; which backend runs it
//! (ndarray, flex, wgpu) is a plugin chosen by name at run time.

pub mod backend;
pub mod chain_cnn_net;
pub mod init;
pub mod kernels;
pub mod lenet_net;
pub mod mlp_net;
pub mod nb201_net;
pub mod network;
pub mod supernet;

pub use backend::{BackendError, BackendPlugin, backend_names, device};
pub use chain_cnn_net::ChainCnnNet;
pub use lenet_net::LeNet5Net;
pub use mlp_net::MlpNet;
/// Binaries that train call it first thing in `main`.
pub use nas_kernels::work_on_this_thread;
pub use nb201_net::Nb201Net;
pub use network::Network;
pub use supernet::Nb201Supernet;
