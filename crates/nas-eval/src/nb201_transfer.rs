//! The embedded NAS-Bench-201 table as the `nb201` space's transfer table: a cell's
//! 200-epoch test accuracy on CIFAR-10, CIFAR-100 and ImageNet16-120, so that a report
//! shows how a cell searched on one dataset does on the others.

use crate::nb201_table::{Dataset, Nb201Table};
use nas_core::transfer::TransferTable;
use nas_core::{Genotype, SearchSpace};
use std::sync::Arc;

fn dataset(name: &str) -> Option<Dataset> {
    Dataset::ALL.into_iter().find(|d| d.column() == name)
}

impl TransferTable for Nb201Table {
    fn datasets(&self) -> Vec<String> {
        Dataset::ALL
            .iter()
            .map(|d| d.column().to_string())
            .collect()
    }

    fn test_accuracy(&self, _: &dyn SearchSpace, g: &Genotype, name: &str) -> Option<f64> {
        Some(self.lookup(g)?.entry(dataset(name)?).test_acc)
    }

    fn all_test_accuracies(&self, name: &str) -> Vec<f64> {
        let Some(d) = dataset(name) else {
            return Vec::new();
        };
        self.rows().iter().map(|r| r.entry(d).test_acc).collect()
    }
}

fn open() -> Result<Arc<dyn TransferTable>, String> {
    let table: Arc<dyn TransferTable> = Nb201Table::embedded().map_err(|e| e.to_string())?;
    Ok(table)
}

nas_core::register_transfer!("nb201", open);
