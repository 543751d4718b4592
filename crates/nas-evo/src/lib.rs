//! Black-box strategies: random search, the baseline every other method is measured
//! against, and the evolutionary family. They see only the space's decisions and
//! operators, never tensors, so this crate builds and tests in seconds.

pub mod random;

pub use random::{RandomSearch, RandomSearchConfig};
