//! Tabular benchmarks as a plugin kind, for transfer: what an architecture of a space
//! scores on each dataset the benchmark trained it on. The report asks
//! [`transfer_table`] by the space's name, so that a search on one dataset can be judged
//! on the others without naming the benchmark (NAS-Bench-201 registers one for `nb201`).

use crate::{Genotype, SearchSpace};
use std::sync::Arc;

/// What a tabular benchmark knows of a space's architectures on its datasets.
pub trait TransferTable: Send + Sync {
    /// The datasets, in the order a report shows them.
    fn datasets(&self) -> Vec<String>;

    /// The test accuracy (percent) of `g` on `dataset` after the benchmark's full
    /// training; `None` when `g` or `dataset` is not in the table.
    fn test_accuracy(&self, space: &dyn SearchSpace, g: &Genotype, dataset: &str) -> Option<f64>;

    /// Every architecture's test accuracy on `dataset`, for percentiles and the best
    /// the table holds; empty for an unknown dataset.
    fn all_test_accuracies(&self, dataset: &str) -> Vec<f64>;
}

/// A registered table: the space it covers and how to open it.
#[derive(Debug)]
pub struct TransferPlugin {
    /// The space's registered name.
    pub space: &'static str,
    /// Opens the table (an embedded one is decompressed once and shared).
    pub open: fn() -> Result<Arc<dyn TransferTable>, String>,
}

inventory::collect!(TransferPlugin);

/// Registers a tabular benchmark for a space:
/// `nas_core::register_transfer!("nb201", open_table);`
#[macro_export]
macro_rules! register_transfer {
    ($space:expr, $open:expr $(,)?) => {
        $crate::inventory::submit! {
            $crate::transfer::TransferPlugin { space: $space, open: $open }
        }
    };
}

/// The table registered for `space`, if any: `None` when no linked crate registered
/// one, `Some(Err)` when it could not be opened.
pub fn transfer_table(space: &str) -> Option<Result<Arc<dyn TransferTable>, String>> {
    inventory::iter::<TransferPlugin>
        .into_iter()
        .find(|p| p.space == space)
        .map(|p| (p.open)())
}
