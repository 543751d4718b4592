//! The burn side of the framework's vocabulary: what every trainable network shares.
//!
//! - [`network`]: the registry through which a space brings its network. A space crate
//!   implements [`NetworkBuilder`] for its genotypes and registers it with
//!   [`register_network!`]; the `train` and `zero-cost` evaluators, the benchmarks and the
//!   one-shot methods find it by the space's name and know no space themselves.
//! - [`fit`]: the training loop, written once, generic over the network and monomorphized
//!   in the crate that registers it; [`proxies`]: the zero-cost proxies, likewise.
//! - [`supernet`]: likewise for a weight-sharing supernet, which one-shot methods drive
//!   through [`SharedWeights`] ([`sgd`]: its SGD, whose state checkpoints exactly).
//! - [`relaxed`]: likewise for a relaxed supernet, whose choices are mixed by
//!   architecture weights (DARTS).
//! - [`backend`]: the registry of burn backends (`--backend flex|ndarray|wgpu`).
//! - [`kernels`]: our CPU kernels as burn operations on the flex and ndarray backends (the
//!   features of the same names, which those backends' crates turn on): the one place
//!   where code names a backend.
//! - [`init`]: seeded weight initialization; [`memory`]: what a training step needs.
//!
//! The data a network trains on is tensor-free and lives in `nas-data`.

pub mod backend;
pub mod blob;
mod eigen;
pub mod fit;
pub mod init;
pub mod kernels;
pub mod memory;
pub mod network;
pub mod oneshot;
pub mod proxies;
pub mod registry;
pub mod relaxed;
pub mod sgd;
pub mod supernet;
pub mod trainable;
mod weights;

pub use weights::{TrainedWeights, WeightGrads};

pub use backend::{BackendError, BackendPlugin, backend_names, device};
pub use fit::{
    FitJob, FitOutcome, OptimizerKind, Recipe, assess, batch, check_training, cosine, fit,
};
pub use inventory;
/// Binaries that train call it first thing in `main`.
pub use nas_kernels::work_on_this_thread;
pub use network::{
    Classifier, Counts, NetSpec, NetworkBuilder, ProxyPass, SpaceNetwork, Task, network_of,
    networks, nonzero,
};
pub use oneshot::OneShotData;
pub use relaxed::{
    RelaxedBuilder, RelaxedSupernet, RelaxedWeights, SpaceRelaxed, relaxed_of, relaxed_supernets,
};
pub use supernet::{
    SharedWeights, SpaceSupernet, Supernet, SupernetBuilder, supernet_of, supernets,
};
pub use trainable::TrainableNetwork;
