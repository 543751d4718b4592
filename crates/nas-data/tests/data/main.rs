//! nas-data's integration tests, one binary: the readers on the shared data sets, and
//! every malformed file they must refuse with a clear error.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

mod hardening;
mod readers;
