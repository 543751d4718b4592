//! A search composed in code: the NB201 space, random search, and an evaluator written
//! here, which trades accuracy against size (accuracy minus a penalty per million
//! parameters). No CLI, no config file, no journal file.

use nas_core::journal::NullJournal;
use nas_core::runner::BlackBoxSearch;
use nas_core::search::{Quiet, Search};
use nas_core::{
    Budget, EvalError, Evaluator, Goal, MetricRole, MetricSpec, Metrics, Objective, Reporter,
    SearchSpace, StrategyContext, Trial,
};
use nas_eval::{Dataset, Nb201Table};
use nas_evo::{RandomSearch, RandomSearchConfig};
use nas_space::Nb201Space;
use std::sync::Arc;

/// The user's own evaluator: a plain struct.
#[derive(Debug)]
struct SmallAndAccurate {
    table: Arc<Nb201Table>,
    penalty_per_million_params: f64,
}

impl Evaluator for SmallAndAccurate {
    fn metrics(&self) -> Vec<MetricSpec> {
        vec![MetricSpec {
            name: "score".into(),
            goal: Goal::Maximize,
            role: MetricRole::Objective,
            description: "CIFAR-10 validation accuracy minus a size penalty".into(),
        }]
    }

    fn evaluate(&self, trial: &Trial, _: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        let row = self
            .table
            .lookup(&trial.genotype)
            .ok_or_else(|| EvalError::Failed("not an NB201 cell".into()))?;
        let e = row.entry(Dataset::Cifar10);
        let mut m = Metrics::default();
        m.set(
            "score",
            e.valid_acc - self.penalty_per_million_params * e.params_m,
        );
        m.set("valid_acc", e.valid_acc);
        m.set("params_m", e.params_m);
        Ok(m)
    }
}

/// Runs the search; returns the best cell's string and its metrics.
fn search(
    seed: u64,
    trials: u64,
    penalty: f64,
) -> Result<(String, Metrics), Box<dyn std::error::Error>> {
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    let evaluator = Arc::new(SmallAndAccurate {
        table: Nb201Table::embedded()?,
        penalty_per_million_params: penalty,
    });
    let objectives = vec![Objective {
        metric: "score".into(),
        goal: Goal::Maximize,
    }];
    let ctx = StrategyContext {
        space: Arc::clone(&space),
        objectives: objectives.clone(),
        seed,
    };
    let mut search = BlackBoxSearch {
        space: Arc::clone(&space),
        strategy: Box::new(RandomSearch::new(RandomSearchConfig::default(), ctx)),
        evaluator,
        objectives,
        seed,
        workers: 1,
        pruner: None,
    };
    let report = search.run(&Budget::trials(trials), &mut NullJournal, &mut Quiet, None)?;
    let best = report.progress.best.ok_or("no trial completed")?;
    let metrics = best.outcome.metrics().cloned().unwrap_or_default();
    Ok((space.render(&best.trial.genotype), metrics))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (arch, metrics) = search(0, 300, 5.0)?;
    println!("best: {arch}");
    for (name, value) in metrics.iter() {
        println!("  {name} {value:.3}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_penalty_finds_smaller_cells() {
        let (_, plain) = search(1, 300, 0.0).unwrap();
        let (_, penalized) = search(1, 300, 20.0).unwrap();
        assert!(penalized.get("params_m").unwrap() < plain.get("params_m").unwrap());
        assert!(plain.get("valid_acc").unwrap() > 89.0);
    }
}
