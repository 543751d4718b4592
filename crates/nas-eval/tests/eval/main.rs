//! nas-eval's integration tests, one binary: the NAS-Bench-201 table, the data readers,
//! and the training evaluator on the chain-CNN and MLP spaces.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod data;
mod hardening;
mod table;
#[cfg(feature = "train")]
mod train;
