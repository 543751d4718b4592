//! Tuning aid: REINFORCE configs on the NAS-Bench-201 table under the protocol of
//! `nas-bench` (12-epoch validation accuracy as the reward, 200-epoch test accuracy of
//! the returned cell reported, one worker, a fixed number of evaluations).
//!
//! `cargo run --release -p nas-rl --example tune_nb201 -- FIRST..END TRIALS DATASET CONFIG...`
//! (seeds `FIRST..END`; tune on seeds the protocol's `0..200` does not use) where DATASET is `cifar10`, `cifar100` or `imagenet16` and each CONFIG is a JSON table
//! of `reinforce` fields (`{}` for the defaults). Prints mean ± std and µs/evaluation.
//!
//! `... --example tune_nb201 -- overhead N CONFIG`: the controller's own cost on the NB201
//! space, one thread, no evaluator: N asks and N tells (a synthetic reward), timed apart.

#![allow(clippy::unwrap_used)] // A tuning script: fail loudly.

use nas_core::journal::NullJournal;
use nas_core::search::{Observer, Progress};
use nas_core::{Experiment, ExperimentConfig, TrialResult};
use nas_eval as _;
use nas_rl as _;
use nas_space as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

struct Last(f64);
impl Observer for Last {
    fn on_result(&mut self, _: &TrialResult, p: &Progress) {
        self.0 = p
            .best
            .as_ref()
            .and_then(|b| b.outcome.metrics())
            .and_then(|m| m.get("final_test_acc"))
            .unwrap_or(f64::NAN);
    }
}

fn overhead(n: usize, cfg: &str) {
    use nas_core::{Metrics, Outcome, SearchSpace, StrategyConfig, StrategyContext, Trial};
    let mut config: nas_rl::ReinforceConfig = serde_json::from_str(cfg).unwrap();
    config.unique = false;
    let space: std::sync::Arc<dyn SearchSpace> = std::sync::Arc::new(nas_space::Nb201Space::new());
    let ctx = StrategyContext {
        space,
        objectives: vec![nas_core::Objective {
            metric: "acc".into(),
            goal: nas_core::Goal::Maximize,
        }],
        seed: 1,
    };
    let mut s = config.build(ctx).unwrap();
    let (mut ask, mut tell) = (0f64, 0f64);
    for id in 0..n as u64 {
        let t = Instant::now();
        let g = s.ask(1).remove(0).genotype;
        ask += t.elapsed().as_secs_f64();
        let mut m = Metrics::default();
        m.set(
            "acc",
            g.indices()
                .unwrap()
                .iter()
                .map(|&v| f64::from(v))
                .sum::<f64>(),
        );
        let r = TrialResult {
            trial: Trial {
                id,
                genotype: g,
                fidelity: Default::default(),
                seed: id,
            },
            outcome: Outcome::Completed { metrics: m },
            intermediate: Vec::new(),
        };
        let t = Instant::now();
        s.tell(&r);
        tell += t.elapsed().as_secs_f64();
    }
    println!(
        "{cfg}: ask (plain-Rust forward + sampling) {:.1} µs, tell (forward, backward through time, Adam) {:.1} µs, per evaluation over {n}",
        ask * 1e6 / n as f64,
        tell * 1e6 / n as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args[0] == "overhead" {
        for cfg in &args[2..] {
            overhead(args[1].parse().unwrap(), cfg);
        }
        return;
    }
    let (first, seeds) = args[0].split_once("..").unwrap();
    let (first, seeds): (u64, u64) = (first.parse().unwrap(), seeds.parse().unwrap());
    let trials: u64 = args[1].parse().unwrap();
    let dataset = args[2].clone();
    for cfg in &args[3..] {
        let mut strategy: serde_json::Value = serde_json::from_str(cfg).unwrap();
        strategy["type"] = "reinforce".into();
        let next = AtomicU64::new(0);
        let seeds = seeds - first;
        let results = Mutex::new(Vec::new());
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    loop {
                        let seed = first + next.fetch_add(1, Ordering::Relaxed);
                        if seed >= first + seeds {
                            break;
                        }
                        let config = ExperimentConfig::from_json(serde_json::json!({
                            "name": "tune",
                            "seed": seed,
                            "budget": { "trials": trials },
                            "space": "nb201",
                            "strategy": strategy,
                            "evaluator": { "type": "nb201-table", "dataset": dataset, "epochs": 12 },
                        }))
                        .unwrap();
                        let mut e = Experiment::build(config).unwrap();
                        let mut last = Last(f64::NAN);
                        e.run_with(&mut NullJournal, &mut last, None).unwrap();
                        results.lock().unwrap().push(last.0);
                    }
                });
            }
        });
        let wall = started.elapsed().as_secs_f64();
        let r = results.into_inner().unwrap();
        let n = r.len() as f64;
        let mean = r.iter().sum::<f64>() / n;
        let std = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        println!(
            "{dataset} {cfg}: {mean:.3} ± {std:.3} (SE {:.3}), {:.0} µs/eval (2 threads, wall)",
            std / n.sqrt(),
            wall * 1e6 / (n * trials as f64) * 2.0
        );
    }
}
