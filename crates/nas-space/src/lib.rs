//! Search spaces. Each space is a plugin registered by name: NAS-Bench-201 cells
//! (`nb201`), DARTS/NASNet cells (`darts`), chain-structured CNNs (`chain-cnn`), MLPs
//! (`mlp`) and recurrent cells for text (`rnn-cell`). Each has a tensor-free
//! decoded architecture with a cost model here, and (feature `nn`) its burn network, so
//! every method shares one model vocabulary; without `nn` this crate needs no tensors.

pub mod chain_cnn;
pub mod chain_cnn_cost;
pub mod chain_cnn_space;
pub mod darts;
pub mod darts_cost;
pub mod darts_space;
pub mod lenet;
pub mod mlp;
pub mod mlp_cost;
pub mod mlp_space;
pub mod nb201;
pub mod nb201_cost;
#[cfg(feature = "nn")]
pub mod nn;
pub mod rnn_cell;
pub mod rnn_cell_cost;
pub mod rnn_cell_space;

pub use chain_cnn::{ChainArch, ChainLayer};
pub use chain_cnn_space::{ChainCnnSpace, ChainCnnSpaceConfig};
pub use darts::DartsArch;
pub use darts_cost::DartsNetConfig;
pub use darts_space::{DartsSpace, DartsSpaceConfig};
pub use mlp::{Activation, MlpArch};
pub use mlp_space::{MlpSpace, MlpSpaceConfig};
pub use nas_core::Cost;
pub use nb201::{Nb201Space, Nb201SpaceConfig};
pub use nb201_cost::Nb201NetConfig;
pub use rnn_cell::{CellActivation, RnnCellArch, RnnNode};
pub use rnn_cell_space::{RnnCellSpace, RnnCellSpaceConfig};
