//! Large-scale evolution, Real et al. 2017: pairwise tournaments in which the worse of
//! two random members is killed and the better one breeds, by mutation and now and then
//! by crossover with a third member.

use crate::common::{Member, clean, rank};
use nas_core::registry::{ConfigError, StrategyConfig};
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{
    Checkpoint, Proposal, Rng, Seen, Strategy, StrategyContext, StrategyError, TrialResult,
};
use serde::{Deserialize, Serialize};

const NAME: &str = "large-scale-evolution";

/// Config of the `large-scale-evolution` strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LargeScaleEvolutionConfig {
    /// Members alive plus children in flight; the first this many proposals are random.
    pub population: usize,
    /// Probability that a child is a crossover of its parent and another member (then
    /// mutated) rather than a mutation of the parent alone.
    pub crossover_prob: f64,
}

impl Default for LargeScaleEvolutionConfig {
    fn default() -> Self {
        LargeScaleEvolutionConfig {
            population: 20,
            crossover_prob: 0.1,
        }
    }
}

impl LargeScaleEvolutionConfig {
    /// # Errors
    /// A population under two (a tournament needs a pair) or a probability outside
    /// `[0, 1]`.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.population < 2 {
            return Err(ConfigError::field(
                NAME,
                "population",
                "must be at least 2: each step compares a pair of members",
            ));
        }
        if !(0.0..=1.0).contains(&self.crossover_prob) {
            return Err(ConfigError::field(
                NAME,
                "crossover_prob",
                format!("{} is not a probability in [0, 1]", self.crossover_prob),
            ));
        }
        Ok(())
    }
}

impl StrategyConfig for LargeScaleEvolutionConfig {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        Ok(Box::new(LargeScaleEvolution::new(self.clone(), ctx)?))
    }
}

nas_core::register!(
    dyn StrategyConfig,
    LargeScaleEvolutionConfig,
    NAME,
    "Large-scale evolution: of two random members the worse dies, the better breeds."
);

/// What a checkpoint holds.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    rng: Rng,
    /// Fingerprints of the functions proposed so far, sorted.
    seen: Vec<u64>,
    /// Oldest first.
    population: Vec<Member>,
    /// Random genotypes of the initial phase proposed so far.
    random_proposed: usize,
}

/// The large-scale evolution strategy.
///
/// Each ask after the random phase kills one member and proposes one child, which joins
/// when told; so members alive plus children in flight stay at `population`, and with
/// many workers the living population is that much smaller. With fewer than two members
/// alive it waits for results.
#[derive(Debug)]
pub struct LargeScaleEvolution {
    config: LargeScaleEvolutionConfig,
    ctx: StrategyContext,
    rng: Rng,
    seen: Seen,
    population: Vec<Member>,
    random_proposed: usize,
}

impl LargeScaleEvolution {
    /// # Errors
    /// A config that [`LargeScaleEvolutionConfig::check`] refuses.
    pub fn new(
        config: LargeScaleEvolutionConfig,
        ctx: StrategyContext,
    ) -> Result<Self, ConfigError> {
        config.check()?;
        Ok(LargeScaleEvolution {
            rng: ctx.rng(),
            seen: Seen::new(&ctx.space),
            config,
            ctx,
            population: Vec::new(),
            random_proposed: 0,
        })
    }

    /// One child by a pairwise tournament, the loser killed only once a child exists.
    fn breed(&mut self) -> Option<nas_core::Genotype> {
        let pair = self.rng.sample_indices(self.population.len(), 2);
        let (a, b) = (pair[0], pair[1]);
        // The worse dies; on a tie the older one (lower index), so the population keeps
        // turning over.
        let (winner, loser) = if rank(self.population[a].score) > rank(self.population[b].score)
            || (rank(self.population[a].score) == rank(self.population[b].score) && a > b)
        {
            (a, b)
        } else {
            (b, a)
        };
        let others: Vec<usize> = (0..self.population.len())
            .filter(|&i| i != winner && i != loser)
            .collect();
        let space = &*self.ctx.space;
        let population = &self.population;
        let parent = &population[winner].genotype;
        let p = self.config.crossover_prob;
        let child = self.seen.novel(&mut self.rng, |rng| {
            if !others.is_empty() && rng.chance(p) {
                let other = &population[others[rng.index(others.len())]].genotype;
                if let Some(mix) = space.crossover(parent, other, rng) {
                    return space.mutate(&mix, rng);
                }
            }
            space.mutate(parent, rng)
        })?;
        self.population.remove(loser);
        Some(child)
    }
}

impl Strategy for LargeScaleEvolution {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let child = if self.random_proposed < self.config.population {
                let g = self.seen.fresh(&mut self.rng);
                self.random_proposed += usize::from(g.is_some());
                g
            } else if self.population.len() < 2 {
                // Waiting for results to make a pair.
                break;
            } else {
                self.breed()
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
        self.population.push(Member {
            genotype: result.trial.genotype.clone(),
            score: clean(self.ctx.score(result)),
        });
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

    fn make(population: usize, crossover_prob: f64) -> impl Fn(u64) -> Box<dyn Strategy> {
        move |seed| {
            LargeScaleEvolutionConfig {
                population,
                crossover_prob,
            }
            .build(ctx(toy(8, 4), vec![acc()], seed))
            .unwrap()
        }
    }

    #[test]
    fn conformance() {
        for crossover_prob in [0.0, 0.3, 1.0] {
            check_strategy(
                NAME,
                json!({"population": 10, "crossover_prob": crossover_prob}),
            );
        }
    }

    #[test]
    fn finds_the_optimum() {
        for seed in 0..5 {
            for workers in [1, 8] {
                let mut s = make(20, 0.1)(seed);
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
        let mut s = make(10, 0.2)(4);
        let mut d = Driver::new(toy(8, 4), 2);
        assert!(!d.run(&mut *s, &onemax_with_failures, 1500));
        assert_eq!(d.best(), Some(8.0));
    }

    #[test]
    fn members_alive_plus_in_flight_stay_at_population() {
        let space = toy(8, 4);
        let config = LargeScaleEvolutionConfig {
            population: 6,
            crossover_prob: 0.5,
        };
        let mut s = LargeScaleEvolution::new(config, ctx(space.clone(), vec![acc()], 3)).unwrap();
        let mut d = Driver::new(space, 4);
        for until in [5, 17, 40] {
            d.run(&mut s, &onemax, until);
            let in_flight = d.proposed.len() - d.told.len();
            assert_eq!(s.population.len() + in_flight, 6);
        }
    }

    #[test]
    fn a_small_space_is_covered_then_exhausted() {
        let mut s = LargeScaleEvolutionConfig::default()
            .build(ctx(toy(2, 3), vec![acc()], 9))
            .unwrap();
        let mut d = Driver::new(toy(2, 3), 3);
        assert!(d.run(&mut *s, &onemax, 100));
        assert_eq!(d.proposed.len(), 9);
    }

    #[test]
    fn config_errors_name_the_field() {
        let bad = |population, crossover_prob| {
            LargeScaleEvolutionConfig {
                population,
                crossover_prob,
            }
            .build(ctx(toy(3, 3), vec![acc()], 0))
            .unwrap_err()
            .to_string()
        };
        assert!(bad(1, 0.1).contains("`population`"));
        assert!(bad(10, -0.1).contains("`crossover_prob`"));
        assert!(bad(10, 1.5).contains("`crossover_prob`"));
        assert!(bad(10, f64::NAN).contains("`crossover_prob`"));
        assert!(bad(1, 0.1).starts_with("large-scale-evolution"));
    }
}
