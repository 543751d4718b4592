//! nas-space's integration tests, one binary: the NAS-Bench-201, chain-CNN, MLP and
//! recurrent-cell spaces.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod chain_cnn;
mod drawing;
mod mlp;
mod nb201;
mod rnn_cell;
