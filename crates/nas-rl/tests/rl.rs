//! The REINFORCE controller: it learns a toy optimum, its gradient matches finite
//! differences (`rl/policy_grad.rs`), it is deterministic, resumes exactly from a
//! checkpoint, takes results in any order, and refuses bad configs clearly; its cost and
//! accuracy on the NAS-Bench-201 table (`rl/reinforce_nb201.rs`, ignored); the conformance
//! suite on the recurrent-cell space.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nas_core::registry::{PluginConfig, StrategyConfig};
use nas_core::{
    Decision, DecisionKind, Genotype, Goal, Metrics, Objective, Outcome, SearchSpace, Strategy,
    StrategyContext, Trial, TrialResult, Value,
};
use nas_eval as _; // the table, for the NB201 protocol test
use nas_rl as _;
use nas_rl::{Reinforce, ReinforceConfig};
use nas_space as _;
use std::sync::Arc;

#[path = "rl/policy_grad.rs"]
mod policy_grad;
#[path = "rl/reinforce_nb201.rs"]
mod reinforce_nb201;

#[derive(Debug)]
struct Toy(Vec<Decision>);

impl SearchSpace for Toy {
    fn name(&self) -> &str {
        "toy"
    }
    fn decisions(&self) -> &[Decision] {
        &self.0
    }
}

/// `n` categorical decisions of `k` choices.
fn toy(n: usize, k: usize) -> Arc<dyn SearchSpace> {
    let names: Vec<String> = (0..k).map(|c| format!("c{c}")).collect();
    let choices: Vec<&str> = names.iter().map(String::as_str).collect();
    Arc::new(Toy((0..n)
        .map(|i| Decision::categorical(format!("d{i}"), &choices))
        .collect()))
}

fn ctx(space: Arc<dyn SearchSpace>, seed: u64) -> StrategyContext {
    StrategyContext {
        space,
        objectives: vec![Objective {
            metric: "acc".into(),
            goal: Goal::Maximize,
        }],
        seed,
    }
}

fn target(i: usize) -> u32 {
    (i % 3) as u32
}

/// `acc` = how many decisions hold [`target`].
fn onemax(g: &Genotype) -> Outcome {
    let hits = g
        .indices()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|&(i, &v)| v == target(i))
        .count();
    let mut m = Metrics::default();
    m.set("acc", hits as f64);
    Outcome::Completed { metrics: m }
}

fn result(id: u64, g: &Genotype, outcome: Outcome) -> TrialResult {
    TrialResult {
        trial: Trial {
            id,
            genotype: g.clone(),
            fidelity: Default::default(),
            seed: id,
        },
        outcome,
        intermediate: Vec::new(),
    }
}

/// Asks `per_ask` at a time and tells them all, `rounds` times; returns every proposal.
fn drive(
    s: &mut dyn Strategy,
    eval: &dyn Fn(&Genotype) -> Outcome,
    rounds: usize,
    per_ask: usize,
    next_id: &mut u64,
) -> Vec<Genotype> {
    let mut all = Vec::new();
    for _ in 0..rounds {
        let asked: Vec<Genotype> = s.ask(per_ask).into_iter().map(|p| p.genotype).collect();
        for g in &asked {
            s.tell(&result(*next_id, g, eval(g)));
            *next_id += 1;
        }
        all.extend(asked);
    }
    all
}

fn config() -> ReinforceConfig {
    ReinforceConfig {
        unique: false,
        ..ReinforceConfig::default()
    }
}

#[test]
fn the_policy_concentrates_on_the_toy_optimum() {
    let space = toy(6, 3);
    let want: Vec<u32> = (0..6).map(target).collect();
    for seed in 0..3 {
        let mut s = Reinforce::new(
            ReinforceConfig {
                learning_rate: 0.005,
                ..config()
            },
            ctx(space.clone(), seed),
        )
        .unwrap();
        let before = s.policy().log_prob(s.params(), &want).exp();
        let mut id = 0;
        drive(&mut s, &onemax, 600, 1, &mut id);
        let p = s.policy().log_prob(s.params(), &want).exp();
        assert_eq!(s.updates(), 600);
        assert_eq!(
            s.greedy(),
            Genotype::from_indices(want.clone()),
            "seed {seed}"
        );
        // The tanh clipping (C = 2.5) caps one step's probability at 0.987, so 0.92 over
        // six steps is the most the policy can reach.
        assert!(
            p > 0.8,
            "seed {seed}: p(optimum) {before:.4} -> {p:.4} after 600 updates"
        );
    }
}

fn build(seed: u64, config: &ReinforceConfig, space: Arc<dyn SearchSpace>) -> Box<dyn Strategy> {
    config.build(ctx(space, seed)).unwrap()
}

#[test]
fn same_seed_same_proposals() {
    let cfg = ReinforceConfig {
        batch: 3,
        ..ReinforceConfig::default()
    };
    let run = |seed| {
        let mut s = build(seed, &cfg, toy(6, 3));
        drive(&mut *s, &onemax, 40, 2, &mut 0)
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn checkpoint_and_restore_continue_identically() {
    for cfg in [
        ReinforceConfig::default(),
        ReinforceConfig {
            batch: 4,
            entropy_weight: 0.01,
            unique: false,
            ..ReinforceConfig::default()
        },
    ] {
        for cut in [0, 1, 7, 30] {
            let mut a = build(3, &cfg, toy(6, 3));
            let mut id = 0;
            drive(&mut *a, &onemax, cut, 3, &mut id);
            // An ask outstanding at the checkpoint: told after the restore.
            let open: Vec<Genotype> = a.ask(2).into_iter().map(|p| p.genotype).collect();
            let state = a.checkpoint().unwrap();
            // Through text, as the journal stores it.
            let state: serde_json::Value =
                serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
            let mut b = build(3, &cfg, toy(6, 3));
            b.restore(state).unwrap();
            let finish = |s: &mut dyn Strategy| {
                let mut id = id;
                for g in &open {
                    s.tell(&result(id, g, onemax(g)));
                    id += 1;
                }
                let rest = drive(s, &onemax, 20, 3, &mut id);
                (rest, s.checkpoint().unwrap())
            };
            let (ra, ca) = finish(&mut *a);
            let (rb, cb) = finish(&mut *b);
            assert_eq!(ra, rb, "cut {cut}");
            assert_eq!(ca, cb, "cut {cut}: same state after the same calls");
        }
    }
}

#[test]
fn results_told_out_of_order_use_their_own_choices() {
    let cfg = ReinforceConfig {
        batch: 1,
        unique: true,
        ..ReinforceConfig::default()
    };
    let mut s = build(1, &cfg, toy(6, 3));
    let asked: Vec<Genotype> = s.ask(8).into_iter().map(|p| p.genotype).collect();
    assert_eq!(asked.len(), 8);
    // Reverse order, and one result for a genotype never proposed (mapped onto the grid).
    for (i, g) in asked.iter().enumerate().rev() {
        s.tell(&result(i as u64, g, onemax(g)));
    }
    let stranger = Genotype::from_indices([0, 1, 2, 0, 1, 2]);
    s.tell(&result(99, &stranger, onemax(&stranger)));
    let state = s.checkpoint().unwrap();
    assert_eq!(state["outstanding"], serde_json::json!([]));
    assert_eq!(state["updates"], 9);

    // The order matters only through the baseline: a search told in any order keeps
    // learning the optimum.
    let mut s = Reinforce::new(
        ReinforceConfig {
            learning_rate: 0.02,
            unique: false,
            ..ReinforceConfig::default()
        },
        ctx(toy(6, 3), 4),
    )
    .unwrap();
    let mut id = 0;
    for _ in 0..75 {
        let asked: Vec<Genotype> = s.ask(4).into_iter().map(|p| p.genotype).collect();
        for g in asked.iter().rev() {
            s.tell(&result(id, g, onemax(g)));
            id += 1;
        }
    }
    let want: Vec<u32> = (0..6).map(target).collect();
    assert_eq!(s.greedy(), Genotype::from_indices(want));
}

#[test]
fn failures_are_skipped_or_rewarded_as_configured() {
    let failed = |g: &Genotype| {
        if g.indices().unwrap()[0] == 0 {
            Outcome::Failed {
                reason: "toy".into(),
            }
        } else {
            onemax(g)
        }
    };
    let mut skip = Reinforce::new(config(), ctx(toy(6, 3), 2)).unwrap();
    let mut told = Reinforce::new(
        ReinforceConfig {
            failure_reward: Some(-5.0),
            ..config()
        },
        ctx(toy(6, 3), 2),
    )
    .unwrap();
    drive(&mut skip, &failed, 60, 1, &mut 0);
    drive(&mut told, &failed, 60, 1, &mut 0);
    assert!(skip.updates() < 60 && skip.updates() > 0);
    assert_eq!(told.updates(), 60);
    // Punished failures teach the controller to avoid choice 0 of the first decision.
    let p0 = |s: &Reinforce| s.policy().distributions(s.params(), &[1, 0, 0, 0, 0, 0])[0][0];
    assert!(p0(&told) < p0(&skip), "{} vs {}", p0(&told), p0(&skip));
}

#[test]
fn unique_search_covers_a_small_space_then_stops() {
    let mut s = build(0, &ReinforceConfig::default(), toy(2, 3));
    let all = drive(&mut *s, &onemax, 20, 1, &mut 0);
    assert_eq!(all.len(), 9);
    let distinct: std::collections::HashSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), 9);
    assert!(s.ask(3).is_empty());
}

#[derive(Debug)]
struct Mixed(Vec<Decision>);
impl SearchSpace for Mixed {
    fn name(&self) -> &str {
        "mixed"
    }
    fn decisions(&self) -> &[Decision] {
        &self.0
    }
}

#[test]
fn integer_and_real_decisions_are_discretized() {
    let space: Arc<dyn SearchSpace> = Arc::new(Mixed(vec![
        Decision::categorical("op", &["a", "b"]),
        Decision {
            name: "layers".into(),
            kind: DecisionKind::Integer { low: 2, high: 5 },
        },
        Decision {
            name: "wide".into(),
            kind: DecisionKind::Integer {
                low: 0,
                high: 1_000_000,
            },
        },
        Decision {
            name: "lr".into(),
            kind: DecisionKind::Real {
                low: 1e-4,
                high: 1e-1,
                log: true,
            },
        },
        Decision {
            name: "dropout".into(),
            kind: DecisionKind::Real {
                low: 0.0,
                high: 0.5,
                log: false,
            },
        },
    ]));
    let cfg = ReinforceConfig {
        real_bins: 4,
        ..ReinforceConfig::default()
    };
    let s = Reinforce::new(cfg.clone(), ctx(space.clone(), 0)).unwrap();
    assert_eq!(s.grid().choices(), vec![2, 4, 4, 4, 4]);
    assert_eq!(
        s.grid().values[4],
        [0.0, 0.5 / 3.0, 1.0 / 3.0, 0.5].map(Value::Real).to_vec()
    );
    let reward = |g: &Genotype| {
        let mut m = Metrics::default();
        let lr = match g.0[3] {
            Value::Real(v) => v,
            _ => unreachable!(),
        };
        m.set("acc", -(lr.log10() + 2.0).abs());
        Outcome::Completed { metrics: m }
    };
    let mut s = build(0, &cfg, space.clone());
    for g in drive(&mut *s, &reward, 50, 2, &mut 0) {
        space.validate(&g).unwrap();
    }

    let empty: Arc<dyn SearchSpace> = Arc::new(Mixed(vec![Decision {
        name: "broken".into(),
        kind: DecisionKind::Integer { low: 3, high: 1 },
    }]));
    let err = Reinforce::new(cfg, ctx(empty, 0)).unwrap_err().to_string();
    assert!(err.contains("`broken`"), "{err}");
}

#[test]
fn config_errors_are_clear() {
    let unknown = PluginConfig::<dyn StrategyConfig>::from_value(
        serde_json::json!({"type": "reinforce", "learning_rat": 0.1}),
    )
    .unwrap_err()
    .to_string();
    assert!(unknown.contains("learning_rat"), "{unknown}");
    assert!(
        unknown.contains("learning_rate"),
        "lists the known fields: {unknown}"
    );

    let bad = |json: serde_json::Value| {
        let c: ReinforceConfig = serde_json::from_value(json).unwrap();
        c.build(ctx(toy(3, 3), 0)).unwrap_err().to_string()
    };
    assert!(bad(serde_json::json!({"batch": 0})).contains("`batch`"));
    assert!(bad(serde_json::json!({"temperature": 0.0})).contains("`temperature`"));
    assert!(bad(serde_json::json!({"baseline_decay": 1.0})).contains("`baseline_decay`"));
    assert!(bad(serde_json::json!({"hidden": 0})).starts_with("reinforce"));

    let ok = PluginConfig::<dyn StrategyConfig>::from_value(
        serde_json::json!({"type": "reinforce", "hidden": 16, "batch": 2}),
    );
    assert!(ok.is_ok());
    let names: Vec<&str> = nas_core::registry::plugins::<dyn StrategyConfig>()
        .unwrap()
        .iter()
        .map(|p| p.name)
        .collect();
    assert!(names.contains(&"reinforce"), "{names:?}");
}

#[test]
fn restore_refuses_a_checkpoint_of_another_shape() {
    let a = build(0, &ReinforceConfig::default(), toy(6, 3));
    let mut b = build(
        0,
        &ReinforceConfig {
            hidden: 8,
            ..ReinforceConfig::default()
        },
        toy(6, 3),
    );
    let err = b.restore(a.checkpoint().unwrap()).unwrap_err().to_string();
    assert!(err.contains("weights"), "{err}");
}

/// REINFORCE runs the recurrent-cell space unchanged: the conformance suite on it, scored
/// by a function of the cell's canonical tree.
#[test]
fn reinforce_searches_recurrent_cells_unchanged() {
    let space =
        Arc::new(nas_space::RnnCellSpace::new(nas_space::RnnCellSpaceConfig::default()).unwrap());
    let scoring = Arc::clone(&space);
    nas_core::testkit::Conformance::new("reinforce", serde_json::json!({}))
        .space(space)
        .eval(move |g| {
            let acc = (scoring.fingerprint(g).0 % 1000) as f64 / 10.0;
            nas_core::testkit::completed(&[("acc", acc)])
        })
        .trials(40)
        .run();
}
