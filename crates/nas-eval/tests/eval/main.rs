//! nas-eval's integration tests, one binary: the NAS-Bench-201 table, and the training and
//! zero-cost evaluators on every space that registers a network.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod hardening;
mod table;
#[cfg(feature = "train")]
mod text;
#[cfg(feature = "train")]
mod train;
