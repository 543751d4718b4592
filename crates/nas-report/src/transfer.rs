//! Transfer: how the best trials of a search do on the other datasets of the space's
//! tabular benchmark (`nas_core::transfer`), and whether their order carries over.

use crate::Run;
use crate::analysis::ranked;
use nas_core::stats::spearman;
use nas_core::transfer::transfer_table;

/// The top trials of a run looked up on every dataset of the space's table.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    pub datasets: Vec<String>,
    /// The dataset the search itself used, where its evaluator's config names one of
    /// the table's.
    pub searched: Option<String>,
    /// The ids of the top trials, best first (by the search's objective).
    pub trials: Vec<u64>,
    /// `accuracies[d][k]`: test accuracy of top trial `k` on dataset `d`.
    pub accuracies: Vec<Vec<f64>>,
    /// `percentiles[d][k]`: the share of the table's architectures (percent) that top
    /// trial `k` beats on dataset `d`: comparable across datasets whose accuracies are not.
    pub percentiles: Vec<Vec<f64>>,
    /// The best test accuracy in the whole table, per dataset.
    pub table_best: Vec<f64>,
    /// `correlations[a][b]`: Spearman's rank correlation of the top trials' test
    /// accuracies on datasets `a` and `b` (`None` with fewer than two distinct values).
    pub correlations: Vec<Vec<Option<f64>>>,
}

/// The transfer of the `top` best trials, `None` when the run's space has no table (or
/// no trial is in it).
///
/// # Errors
/// The table is registered but could not be opened.
pub fn transfer(run: &Run, top: usize) -> Result<Option<Transfer>, String> {
    let Some(table) = transfer_table(run.space.name()) else {
        return Ok(None);
    };
    let table = table?;
    let datasets = table.datasets();
    let space = run.space.as_ref();
    let mut trials = Vec::new();
    let mut accuracies = vec![Vec::new(); datasets.len()];
    for r in ranked(run) {
        if trials.len() == top {
            break;
        }
        let found: Option<Vec<f64>> = datasets
            .iter()
            .map(|d| table.test_accuracy(space, &r.trial.genotype, d))
            .collect();
        if let Some(found) = found {
            trials.push(r.trial.id);
            for (column, a) in accuracies.iter_mut().zip(found) {
                column.push(a);
            }
        }
    }
    if trials.is_empty() {
        return Ok(None);
    }
    let mut percentiles = Vec::new();
    let mut table_best = Vec::new();
    for (d, name) in datasets.iter().enumerate() {
        let mut all = table.all_test_accuracies(name);
        all.sort_by(f64::total_cmp);
        let n = all.len().max(1) as f64;
        percentiles.push(
            accuracies[d]
                .iter()
                .map(|a| 100.0 * all.partition_point(|x| x < a) as f64 / n)
                .collect(),
        );
        table_best.push(all.last().copied().unwrap_or(f64::NAN));
    }
    let correlations = accuracies
        .iter()
        .map(|a| accuracies.iter().map(|b| spearman(a, b)).collect())
        .collect();
    let searched = crate::analysis::dataset(run).filter(|d| datasets.iter().any(|n| n == d));
    Ok(Some(Transfer {
        datasets,
        searched,
        trials,
        accuracies,
        percentiles,
        table_best,
        correlations,
    }))
}
