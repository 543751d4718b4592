//! The `reinforce` strategy on the NAS-Bench-201 table, under the protocol of
//! `cargo xtask bench nb201` (12-epoch validation accuracy as the reward, 100 evaluations,
//! the returned cell's 200-epoch test accuracy reported): its cost per evaluation and the
//! mean accuracy it finds. Ignored: a measurement, not a check. Run it with
//! `cargo test --workspace --test rl -- --ignored reinforce_nb201 --nocapture` (seeds:
//! `NB201_SEEDS=200` for the report's).

use nas_core::journal::NullJournal;
use nas_core::search::{Observer, Progress};
use nas_core::{Experiment, ExperimentConfig, TrialResult};
use serde_json::json;
use std::time::Instant;

const TRIALS: u64 = 100;
/// Seeds `0..n`, `n` from `NB201_SEEDS` (default 20; the benchmark report uses 200).
fn seeds() -> u64 {
    std::env::var("NB201_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
}
const DATASETS: [&str; 3] = ["cifar10", "cifar100", "imagenet16"];

/// The incumbent's 200-epoch test accuracy after the last result.
#[derive(Default)]
struct Incumbent(f64);

impl Observer for Incumbent {
    fn on_result(&mut self, _: &TrialResult, progress: &Progress) {
        self.0 = progress
            .best
            .as_ref()
            .and_then(|b| b.outcome.metrics())
            .and_then(|m| m.get("final_test_acc"))
            .unwrap_or(f64::NAN);
    }
}

/// One search: microseconds per evaluation (the search alone, not building it) and the
/// returned cell's test accuracy.
fn search(strategy: &str, dataset: &str, seed: u64) -> (f64, f64) {
    let config = ExperimentConfig::from_json(json!({
        "name": "reinforce-nb201",
        "seed": seed,
        "budget": { "trials": TRIALS },
        "space": "nb201",
        "strategy": strategy,
        "evaluator": { "type": "nb201-table", "dataset": dataset, "epochs": 12 },
    }))
    .unwrap();
    let mut e = Experiment::build(config).unwrap();
    let mut best = Incumbent::default();
    let started = Instant::now();
    e.run_with(&mut NullJournal, &mut best, None).unwrap();
    let us = started.elapsed().as_secs_f64() * 1e6 / TRIALS as f64;
    (us, best.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn reinforce_nb201_cost_and_accuracy() {
    let seeds = seeds();
    for strategy in ["reinforce"] {
        for dataset in DATASETS {
            let runs: Vec<(f64, f64)> = (0..seeds).map(|s| search(strategy, dataset, s)).collect();
            let accs: Vec<f64> = runs.iter().map(|r| r.1).collect();
            let n = accs.len() as f64;
            let mean = accs.iter().sum::<f64>() / n;
            let var = accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (n - 1.0);
            println!(
                "{strategy:>9} {dataset:>10}: median {:8.1} us per evaluation; \
                 test accuracy {mean:.3} +- {:.3} (mean +- standard error, {seeds} seeds)",
                median(runs.iter().map(|r| r.0).collect()),
                (var / n).sqrt(),
            );
        }
    }
}

/// The controller's two costs on NB201's shape (6 decisions of 5 choices, 32 units):
/// one sample (one forward pass), one gradient of a one-sample batch, one Adam step.
#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn reinforce_nb201_controller_parts() {
    use nas_rl::policy::{Layout, Policy, Sample, Shaping};
    let policy = Policy::new(
        Layout::new(32, vec![5; 6]),
        Shaping {
            temperature: 1.0,
            tanh_constant: 2.5,
        },
    );
    let mut rng = nas_core::Rng::new(0);
    let p = policy.init(0.1, &mut rng);
    let reps = 2000;
    let time = |f: &mut dyn FnMut()| {
        let runs: Vec<f64> = (0..5)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..reps {
                    f();
                }
                started.elapsed().as_secs_f64() * 1e6 / reps as f64
            })
            .collect();
        median(runs)
    };
    let mut sink = 0u64;
    let sample = time(&mut || sink += u64::from(policy.sample(&p, &mut rng)[0]));
    let batch = [Sample {
        actions: vec![1, 4, 0, 2, 3, 1],
        advantage: 0.7,
    }];
    let grad = time(&mut || {
        let (_, g) = policy.loss_and_grad(&p, &batch, 0.0).unwrap();
        sink += g.len() as u64;
    });
    let (_, g) = policy.loss_and_grad(&p, &batch, 0.0).unwrap();
    let mut adam = nas_rl::policy::Adam::new(p.len());
    let mut q = p.clone();
    let step = time(&mut || adam.step(&mut q, &g, 1e-9));
    println!(
        "sample {sample:.1} us, loss_and_grad {grad:.1} us (batch of 1), Adam step {step:.1} us \
         [{sink}]"
    );
}
