//! The driver: the runner's part, played in the test's own thread.

use super::toy::acc;
use crate::space::{Fingerprint, Genotype, SearchSpace};
use crate::strategy::Strategy;
use crate::trial::{Fidelity, Outcome, Trial, TrialResult};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// An evaluation: the outcome of a genotype.
pub type Eval<'a> = &'a dyn Fn(&Genotype) -> Outcome;

/// Builds the strategy under test from a seed.
pub type Make<'a> = &'a dyn Fn(u64) -> Box<dyn Strategy>;

/// Plays the runner: asks while slots are free and the strategy proposes, at most
/// `workers` trials in flight, results told oldest first (trial-id order, as the runner
/// tells them). Checks every proposal: in the space, and (unless repeats are allowed) not
/// the same function as an earlier one.
///
/// Cloning a driver is how the kit models a journal: the clone is what a flush made
/// durable.
#[derive(Debug, Clone)]
pub struct Driver {
    space: Arc<dyn SearchSpace>,
    workers: usize,
    repeats: bool,
    next_id: u64,
    in_flight: VecDeque<Trial>,
    /// The trial that first proposed each function.
    functions: HashMap<Fingerprint, u64>,
    /// Every proposal, in order.
    pub proposed: Vec<Genotype>,
    /// Every result told, in order.
    pub told: Vec<TrialResult>,
}

impl Driver {
    /// A driver with `workers` slots (at least one) that refuses repeated functions.
    pub fn new(space: Arc<dyn SearchSpace>, workers: usize) -> Self {
        Driver {
            space,
            workers: workers.max(1),
            repeats: false,
            next_id: 0,
            in_flight: VecDeque::new(),
            functions: HashMap::new(),
            proposed: Vec::new(),
            told: Vec::new(),
        }
    }

    /// Lets proposals repeat a function (a strategy that samples with replacement).
    pub fn allowing_repeats(mut self) -> Self {
        self.repeats = true;
        self
    }

    /// The space proposals are checked against.
    pub fn space(&self) -> &Arc<dyn SearchSpace> {
        &self.space
    }

    /// The most trials in flight at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Trials proposed and not told yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Asks while slots are free, until the strategy proposes nothing; how many it
    /// proposed.
    pub fn refill(&mut self, s: &mut dyn Strategy) -> usize {
        let before = self.proposed.len();
        while self.in_flight.len() < self.workers {
            let free = self.workers - self.in_flight.len();
            let proposals = s.ask(free);
            assert!(
                proposals.len() <= free,
                "asked for {free} proposals, got {}",
                proposals.len()
            );
            if proposals.is_empty() {
                break;
            }
            for p in proposals {
                self.accept(p.genotype, p.fidelity);
            }
        }
        self.proposed.len() - before
    }

    fn accept(&mut self, genotype: Genotype, fidelity: Fidelity) {
        let id = self.next_id;
        if let Err(e) = self.space.validate(&genotype) {
            panic!("proposal #{id} is not in the space: {e}");
        }
        let key = self.space.fingerprint(&genotype);
        if let Some(first) = self.functions.get(&key) {
            assert!(
                self.repeats,
                "proposal #{id} ({}) computes the same function as proposal #{first} ({}): \
                 keep a nas_core::Seen and skip what it has seen",
                self.space.render(&genotype),
                self.space.render(&self.proposed[*first as usize]),
            );
        } else {
            self.functions.insert(key, id);
        }
        self.proposed.push(genotype.clone());
        self.in_flight.push_back(Trial {
            id,
            genotype,
            fidelity,
            seed: id,
        });
        self.next_id += 1;
    }

    /// Evaluates the oldest trial in flight and tells its result; `false` if nothing was
    /// in flight.
    pub fn tell_next(&mut self, s: &mut dyn Strategy, eval: Eval<'_>) -> bool {
        let Some(trial) = self.in_flight.pop_front() else {
            return false;
        };
        let result = TrialResult {
            outcome: eval(&trial.genotype),
            trial,
            intermediate: Vec::new(),
        };
        s.tell(&result);
        self.told.push(result);
        true
    }

    /// Runs until `until` results have been told in all; `true` if the strategy ran out
    /// of proposals first (it proposed nothing with nothing in flight).
    pub fn run(&mut self, s: &mut dyn Strategy, eval: Eval<'_>, until: usize) -> bool {
        loop {
            if self.told.len() >= until {
                return false;
            }
            self.refill(s);
            if !self.tell_next(s, eval) {
                return true;
            }
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
