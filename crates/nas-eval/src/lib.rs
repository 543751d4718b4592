//! Evaluators. The NAS-Bench-201 table comes first: it answers a query in nanoseconds, so
//! strategies can be compared over hundreds of seeds, and it holds the published ground
//! truth (200-epoch test accuracy) that a search is judged by. With the feature `train`,
//! the `train` and `zero-cost` evaluators, which work on any space that registers its
//! network with nas-nn.

pub mod nb201_table;
mod nb201_transfer;
#[cfg(feature = "train")]
pub mod train;
#[cfg(feature = "train")]
pub mod zero_cost;

pub use nb201_table::{Dataset, Nb201Table, Nb201TableConfig, Nb201TableEvaluator, TableError};
