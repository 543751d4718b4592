//! Black-box strategies: random search, the baseline every other method is measured
//! against, and the evolutionary family. They see only the space's decisions and
//! operators, never tensors, so this crate builds and tests in seconds.

mod common;
pub mod large_scale_evolution;
pub mod local_search;
pub mod nsga2;
pub mod random;
pub mod regularized_evolution;

pub use large_scale_evolution::{LargeScaleEvolution, LargeScaleEvolutionConfig};
pub use local_search::{LocalSearch, LocalSearchConfig};
pub use nsga2::{Nsga2, Nsga2Config};
pub use random::{RandomSearch, RandomSearchConfig};
pub use regularized_evolution::{RegularizedEvolution, RegularizedEvolutionConfig};
