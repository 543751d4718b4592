//! nas-eval's integration tests, one binary: the NAS-Bench-201 table and the data readers.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod data;
mod table;
