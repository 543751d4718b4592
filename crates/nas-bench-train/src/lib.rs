//! What the benchmarks that train share: running the PyTorch reference scripts of
//! `bench/reference/` beside our own figures, in the same run on the same machine.

pub mod reference;
