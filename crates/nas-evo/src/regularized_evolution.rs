//! Regularized (aging) evolution, Real et al. 2019: tournament selection, one mutation per
//! child, and the oldest member dies rather than the worst. Aging keeps the population
//! moving, so a genotype that scored well by luck does not stay a parent forever.

use crate::common::{Member, clean, rank};
use nas_core::registry::{ConfigError, StrategyConfig};
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{
    Checkpoint, Proposal, Rng, Seen, Strategy, StrategyContext, StrategyError, TrialResult,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

const NAME: &str = "regularized-evolution";

/// Config of the `regularized-evolution` strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegularizedEvolutionConfig {
    /// How many evaluated genotypes live at once; the first this many are random samples.
    pub population: usize,
    /// Tournament size: how many members are drawn to pick each parent. Larger is
    /// greedier; equal to `population` it always picks the best.
    pub sample: usize,
}

impl Default for RegularizedEvolutionConfig {
    fn default() -> Self {
        RegularizedEvolutionConfig {
            population: 10,
            sample: 3,
        }
    }
}

impl RegularizedEvolutionConfig {
    /// # Errors
    /// An empty population or tournament, or a tournament larger than the population.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.population == 0 {
            return Err(ConfigError::field(NAME, "population", "must be at least 1"));
        }
        if self.sample == 0 {
            return Err(ConfigError::field(NAME, "sample", "must be at least 1"));
        }
        if self.sample > self.population {
            return Err(ConfigError::field(
                NAME,
                "sample",
                format!(
                    "{} is larger than `population` ({}): a tournament draws distinct members",
                    self.sample, self.population
                ),
            ));
        }
        Ok(())
    }
}

impl StrategyConfig for RegularizedEvolutionConfig {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        Ok(Box::new(RegularizedEvolution::new(self.clone(), ctx)?))
    }
}

nas_core::register!(
    dyn StrategyConfig,
    RegularizedEvolutionConfig,
    NAME,
    "Regularized (aging) evolution: tournament parent, one mutation, the oldest dies."
);

/// What a checkpoint holds.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    rng: Rng,
    /// Fingerprints of the functions proposed so far, sorted.
    seen: Vec<u64>,
    /// Oldest first.
    population: VecDeque<Member>,
    /// Random genotypes of the initial phase proposed so far.
    random_proposed: usize,
}

/// The regularized evolution strategy.
///
/// Asynchronous: results join the population as they are told, and an ask during the
/// initial phase is answered with random samples only until `population` of them are
/// out; then it waits for the first result before mutating.
#[derive(Debug)]
pub struct RegularizedEvolution {
    config: RegularizedEvolutionConfig,
    ctx: StrategyContext,
    rng: Rng,
    seen: Seen,
    population: VecDeque<Member>,
    random_proposed: usize,
}

impl RegularizedEvolution {
    /// # Errors
    /// A config that [`RegularizedEvolutionConfig::check`] refuses.
    pub fn new(
        config: RegularizedEvolutionConfig,
        ctx: StrategyContext,
    ) -> Result<Self, ConfigError> {
        config.check()?;
        Ok(RegularizedEvolution {
            rng: ctx.rng(),
            seen: Seen::new(&ctx.space),
            config,
            ctx,
            population: VecDeque::new(),
            random_proposed: 0,
        })
    }

    /// The best of `sample` distinct members drawn at random (fewer while the population
    /// is still smaller). Ties go to the member drawn first.
    fn tournament(&mut self) -> Option<usize> {
        let k = self.config.sample.min(self.population.len());
        let drawn = self.rng.sample_indices(self.population.len(), k);
        let mut best: Option<usize> = None;
        for i in drawn {
            if best.is_none_or(|b| rank(self.population[i].score) > rank(self.population[b].score))
            {
                best = Some(i);
            }
        }
        best
    }
}

impl Strategy for RegularizedEvolution {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        let mut out = Vec::with_capacity(n);
        // A handle of our own, so the tournament may borrow `self` mutably.
        let space = std::sync::Arc::clone(&self.ctx.space);
        let space = &*space;
        for _ in 0..n {
            let child = if self.random_proposed < self.config.population {
                let g = self.seen.fresh(&mut self.rng);
                self.random_proposed += usize::from(g.is_some());
                g
            } else {
                // Nothing told yet: the whole initial population is in flight.
                let Some(p) = self.tournament() else { break };
                let parent = self.population[p].genotype.clone();
                self.seen
                    .novel(&mut self.rng, |rng| space.mutate(&parent, rng))
            };
            match child {
                Some(g) => out.push(g.into()),
                // The space is covered.
                None => break,
            }
        }
        out
    }

    fn tell(&mut self, result: &TrialResult) {
        self.population.push_back(Member {
            genotype: result.trial.genotype.clone(),
            score: clean(self.ctx.score(result)),
        });
        while self.population.len() > self.config.population {
            self.population.pop_front();
        }
    }

    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        to_checkpoint(&State {
            rng: self.rng.clone(),
            seen: self.seen.sorted(),
            population: self.population.clone(),
            random_proposed: self.random_proposed,
        })
    }

    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        let state: State = from_checkpoint(state)?;
        self.rng = state.rng;
        self.seen.replace(state.seen);
        self.population = state.population;
        self.random_proposed = state.random_proposed;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nas_core::testkit::*;
    use serde_json::json;

    fn make(population: usize, sample: usize) -> impl Fn(u64) -> Box<dyn Strategy> {
        move |seed| {
            RegularizedEvolutionConfig { population, sample }
                .build(ctx(toy(8, 4), vec![acc()], seed))
                .unwrap()
        }
    }

    #[test]
    fn conformance() {
        check_strategy(NAME, json!({"population": 10, "sample": 3}));
        check_strategy(NAME, json!({"population": 4, "sample": 4}));
    }

    #[test]
    fn finds_the_optimum() {
        for seed in 0..5 {
            for workers in [1, 8] {
                let mut s = make(20, 5)(seed);
                let mut d = Driver::new(toy(8, 4), workers);
                d.run(&mut *s, &onemax, 1000);
                assert!(
                    d.first_reaching(8.0).is_some(),
                    "seed {seed}, {workers} workers: best {:?}",
                    d.best()
                );
            }
        }
    }

    #[test]
    fn failures_are_survived() {
        let mut s = make(10, 3)(4);
        let mut d = Driver::new(toy(8, 4), 2);
        assert!(!d.run(&mut *s, &onemax_with_failures, 1500));
        assert_eq!(d.best(), Some(8.0));
    }

    #[test]
    fn waits_while_the_initial_population_is_in_flight() {
        let mut s = make(5, 2)(0);
        assert_eq!(s.ask(3).len(), 3);
        assert_eq!(s.ask(10).len(), 2);
        assert!(s.ask(4).is_empty());
    }

    #[test]
    fn a_small_space_is_covered_then_exhausted() {
        let mut s = RegularizedEvolutionConfig::default()
            .build(ctx(toy(2, 3), vec![acc()], 9))
            .unwrap();
        let mut d = Driver::new(toy(2, 3), 3);
        assert!(d.run(&mut *s, &onemax, 100));
        assert_eq!(d.proposed.len(), 9);
    }

    #[test]
    fn the_oldest_dies() {
        let space = toy(8, 4);
        let config = RegularizedEvolutionConfig {
            population: 3,
            sample: 1,
        };
        let mut s = RegularizedEvolution::new(config, ctx(space.clone(), vec![acc()], 0)).unwrap();
        let mut d = Driver::new(space, 1);
        d.run(&mut s, &onemax, 5);
        let alive: Vec<_> = s.population.iter().map(|m| m.genotype.clone()).collect();
        assert_eq!(alive, d.proposed[2..5].to_vec());
    }

    #[test]
    fn config_errors_name_the_field() {
        let bad = |population, sample| {
            RegularizedEvolutionConfig { population, sample }
                .build(ctx(toy(3, 3), vec![acc()], 0))
                .unwrap_err()
                .to_string()
        };
        assert!(bad(0, 1).contains("`population`"), "{}", bad(0, 1));
        assert!(bad(5, 0).contains("`sample`"));
        assert!(bad(5, 6).contains("`sample`"));
        assert!(bad(5, 6).starts_with("regularized-evolution"));
    }
}
