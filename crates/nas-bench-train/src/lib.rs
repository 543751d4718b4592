//! Benchmarks that train networks, each a binary run by `cargo xtask bench NAME`:
//! `train` (images per second of the NB201 network per CPU backend, against PyTorch's
//! rate), `kernels` (each CPU kernel alone), `zero-cost` (each proxy's rank correlation
//! with the table), `baseline` (a searched cell against LeNet-5, same recipe) and `enas`
//! (ENAS with real training).
//!
//! They live apart from `nas-bench`, whose tabular benchmark needs no tensors: a crate
//! with both would compile burn for a five-second run of table lookups. They run in the
//! dev profile (burn optimized as a dependency) to share the test build.
