//! The burn networks of this crate's spaces (feature `nn`), each registered by space name
//! in [`nas_nn::network`], and the weight-sharing NB201 supernet of the one-shot methods.
//!
//! Model code is written once against burn's run-time `Device`; which backend runs it
//! (ndarray, flex, wgpu) is a plugin chosen by name at run time.

pub mod chain_cnn_net;
pub mod counts;
pub mod darts_net;
pub mod darts_ops;
pub mod darts_plugins;
pub mod darts_supernet;
pub mod lenet_net;
pub mod mlp_net;
pub mod nb201_net;
pub mod networks;
pub mod rnn_cell_net;
pub mod rnn_cell_supernet;
pub mod rnn_plugins;
pub mod supernet;
pub mod text_baselines;
pub mod text_frame;

pub use chain_cnn_net::ChainCnnNet;
pub use darts_net::DartsNet;
pub use darts_plugins::{DartsNetwork, DartsRelaxed, darts_net_config};
pub use darts_supernet::DartsSupernet;
pub use lenet_net::LeNet5Net;
pub use mlp_net::MlpNet;
pub use nb201_net::Nb201Net;
pub use networks::{
    ChainCnnNetwork, MlpNetwork, NB201_LARGEST_CELL, Nb201Network, Nb201Relaxed,
    Nb201SharedWeights, lenet_check_task, nb201_net_config,
};
pub use rnn_cell_net::RnnCellNet;
pub use rnn_cell_supernet::RnnCellSupernet;
pub use rnn_plugins::{
    RnnCellNetwork, RnnCellRelaxed, RnnCellSharedWeights, text_check_task, text_net_config,
};
pub use supernet::Nb201Supernet;
pub use text_baselines::{GatedNet, GruNet, LstmNet, Recurrence};
pub use text_frame::TextFrame;
