//! Test helpers: a toy space, toy evaluations with a known optimum, and a driver that
//! plays the runner's part (asks to fill free slots, tells in trial-id order).

use nas_core::registry::PluginConfig;
use nas_core::{
    Decision, Genotype, Goal, Metrics, Objective, Outcome, SearchSpace, Strategy, StrategyConfig,
    StrategyContext, Trial, TrialResult,
};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

/// `n` categorical decisions of `k` choices each: `k^n` genotypes.
#[derive(Debug)]
pub struct Toy {
    decisions: Vec<Decision>,
}

impl SearchSpace for Toy {
    fn name(&self) -> &str {
        "toy"
    }
    fn decisions(&self) -> &[Decision] {
        &self.decisions
    }
}

pub fn toy(n: usize, k: usize) -> Arc<dyn SearchSpace> {
    let names: Vec<String> = (0..k).map(|c| format!("c{c}")).collect();
    let choices: Vec<&str> = names.iter().map(String::as_str).collect();
    Arc::new(Toy {
        decisions: (0..n)
            .map(|i| Decision::categorical(format!("d{i}"), &choices))
            .collect(),
    })
}

pub fn acc() -> Objective {
    Objective {
        metric: "acc".into(),
        goal: Goal::Maximize,
    }
}

pub fn ctx(space: Arc<dyn SearchSpace>, objectives: Vec<Objective>, seed: u64) -> StrategyContext {
    StrategyContext {
        space,
        objectives,
        seed,
    }
}

pub fn completed(metrics: &[(&'static str, f64)]) -> Outcome {
    let mut m = Metrics::default();
    for (name, v) in metrics {
        m.set(*name, *v);
    }
    Outcome::Completed { metrics: m }
}

fn indices(g: &Genotype) -> Vec<u32> {
    g.indices().expect("the toy space is categorical")
}

/// The optimum's value of decision `i`: 1, 2, 1, 2...
pub fn target(i: usize) -> u32 {
    (i % 2) as u32 + 1
}

/// `acc` = how many decisions hold [`target`]: the optimum, unique, scores `n`.
pub fn onemax(g: &Genotype) -> Outcome {
    let hits = indices(g)
        .iter()
        .enumerate()
        .filter(|&(i, &v)| v == target(i))
        .count();
    completed(&[("acc", hits as f64)])
}

/// [`onemax`], except that a quarter of the space (the first two decisions equal) fails.
pub fn onemax_with_failures(g: &Genotype) -> Outcome {
    let ix = indices(g);
    if ix[0] == ix[1] {
        Outcome::Failed {
            reason: "toy failure".into(),
        }
    } else {
        onemax(g)
    }
}

pub type Eval<'a> = &'a dyn Fn(&Genotype) -> Outcome;

/// Plays the runner: at most `workers` trials in flight, results told oldest first.
#[derive(Debug)]
pub struct Driver {
    space: Arc<dyn SearchSpace>,
    workers: usize,
    next_id: u64,
    in_flight: VecDeque<Trial>,
    unique: HashSet<Genotype>,
    /// Every proposal, in order.
    pub proposed: Vec<Genotype>,
    /// Every result told, in order.
    pub told: Vec<TrialResult>,
}

impl Driver {
    pub fn new(space: Arc<dyn SearchSpace>, workers: usize) -> Self {
        Driver {
            space,
            workers,
            next_id: 0,
            in_flight: VecDeque::new(),
            unique: HashSet::new(),
            proposed: Vec::new(),
            told: Vec::new(),
        }
    }

    /// Runs until `until` results have been told in all; `true` if the strategy ran out
    /// of proposals first. Checks that every proposal is valid and new.
    pub fn run(&mut self, s: &mut dyn Strategy, eval: Eval<'_>, until: usize) -> bool {
        loop {
            if self.told.len() >= until {
                return false;
            }
            let free = self.workers - self.in_flight.len();
            if free > 0 {
                let proposals = s.ask(free);
                assert!(
                    proposals.len() <= free,
                    "asked {free}, got {}",
                    proposals.len()
                );
                for p in proposals {
                    self.space.validate(&p.genotype).unwrap();
                    assert!(
                        self.unique.insert(p.genotype.clone()),
                        "proposed twice: {:?}",
                        p.genotype
                    );
                    self.proposed.push(p.genotype.clone());
                    self.in_flight.push_back(Trial {
                        id: self.next_id,
                        genotype: p.genotype,
                        fidelity: p.fidelity,
                        seed: self.next_id,
                    });
                    self.next_id += 1;
                }
            }
            let Some(trial) = self.in_flight.pop_front() else {
                return true;
            };
            let result = TrialResult {
                outcome: eval(&trial.genotype),
                trial,
                intermediate: Vec::new(),
            };
            s.tell(&result);
            self.told.push(result);
        }
    }

    /// The best `acc` told.
    pub fn best(&self) -> Option<f64> {
        self.told
            .iter()
            .filter_map(|r| acc().score(&r.outcome))
            .max_by(f64::total_cmp)
    }

    /// How many results were told when `acc` first reached `value`.
    pub fn first_reaching(&self, value: f64) -> Option<usize> {
        self.told
            .iter()
            .position(|r| acc().score(&r.outcome) == Some(value))
            .map(|i| i + 1)
    }
}

pub type Make<'a> = &'a dyn Fn(u64) -> Box<dyn Strategy>;

/// The same seed gives the same proposals; another seed other ones.
pub fn assert_deterministic(
    space: Arc<dyn SearchSpace>,
    make: Make<'_>,
    eval: Eval<'_>,
    workers: usize,
    n: usize,
) {
    let run = |seed| {
        let mut d = Driver::new(space.clone(), workers);
        d.run(&mut *make(seed), eval, n);
        d.proposed
    };
    let a = run(11);
    assert!(!a.is_empty());
    assert_eq!(a, run(11));
    assert_ne!(a, run(12));
}

/// Checkpointing after `cut` results (through JSON text, as a journal stores it) and
/// going on in a fresh strategy gives what an uninterrupted run gives.
pub fn assert_resumes_exactly(
    space: Arc<dyn SearchSpace>,
    make: Make<'_>,
    eval: Eval<'_>,
    workers: usize,
    cut: usize,
    total: usize,
) {
    let mut whole = make(5);
    let mut a = Driver::new(space.clone(), workers);
    a.run(&mut *whole, eval, total);

    let mut first = make(5);
    let mut b = Driver::new(space, workers);
    b.run(&mut *first, eval, cut);
    let text = serde_json::to_string(&first.checkpoint().unwrap()).unwrap();
    drop(first);
    let mut second = make(5);
    second
        .restore(serde_json::from_str(&text).unwrap())
        .unwrap();
    b.run(&mut *second, eval, total);

    assert_eq!(a.proposed, b.proposed, "workers {workers}, cut {cut}");
    assert_eq!(whole.checkpoint().unwrap(), second.checkpoint().unwrap());
}

/// The strategy is registered under `name`; a config table with `fields` reads, its
/// defaults read, and an unknown field is refused.
pub fn assert_registered(name: &str, fields: &str) {
    let mut table: serde_json::Value = serde_json::from_str(fields).unwrap();
    table["type"] = name.into();
    let config = PluginConfig::<dyn StrategyConfig>::from_value(table.clone()).unwrap();
    assert_eq!(config.name, name);
    PluginConfig::<dyn StrategyConfig>::default_for(name).unwrap();
    table["bogus"] = 1.into();
    let err = PluginConfig::<dyn StrategyConfig>::from_value(table).unwrap_err();
    assert!(err.to_string().contains("bogus"), "{err}");
}
