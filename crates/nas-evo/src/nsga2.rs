//! NSGA-II, Deb et al. 2002: multi-objective evolution that ranks members by
//! non-domination and, within a front, prefers the isolated ones (crowding distance), so
//! the population spreads along the Pareto front instead of piling up at one end.
//!
//! Every objective of the context is used; with a single one it is an elitist genetic
//! algorithm. Generations are counted in results, not in asks, so any number of trials
//! may be in flight: a child is bred from whatever parent population is current when it
//! is asked for, and when `population` children have been told, parents and children are
//! merged and the best `population` survive.

use crate::common::{clean, rank};
use nas_core::pareto::{crowding_distance, dominates, non_dominated_sort};
use nas_core::registry::{ConfigError, StrategyConfig};
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{
    Checkpoint, Genotype, Proposal, Rng, Seen, Strategy, StrategyContext, StrategyError,
    TrialResult,
};
use serde::{Deserialize, Serialize};

const NAME: &str = "nsga2";

/// Config of the `nsga2` strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Nsga2Config {
    /// Parents kept per generation, and children told per generation. The first this
    /// many proposals are random.
    pub population: usize,
}

impl Default for Nsga2Config {
    fn default() -> Self {
        Nsga2Config { population: 20 }
    }
}

impl Nsga2Config {
    /// # Errors
    /// An empty population.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.population == 0 {
            return Err(ConfigError::field(NAME, "population", "must be at least 1"));
        }
        Ok(())
    }
}

impl StrategyConfig for Nsga2Config {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        Ok(Box::new(Nsga2::new(self.clone(), ctx)?))
    }
}

nas_core::register!(
    dyn StrategyConfig,
    Nsga2Config,
    NAME,
    "NSGA-II: multi-objective evolution by non-domination rank and crowding distance."
);

/// An evaluated genotype with one score per objective (`None`: failed or missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Scored {
    genotype: Genotype,
    scores: Vec<Option<f64>>,
}

impl Scored {
    /// Larger is better on every objective; a failure is `-inf`.
    fn point(&self) -> Vec<f64> {
        self.scores.iter().map(|&s| rank(s)).collect()
    }
}

/// What a checkpoint holds.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    rng: Rng,
    /// Fingerprints of the functions proposed so far, sorted.
    seen: Vec<u64>,
    parents: Vec<Scored>,
    children: Vec<Scored>,
    archive: Vec<Scored>,
    random_proposed: usize,
    told: u64,
    generation: u64,
}

/// The NSGA-II strategy.
#[derive(Debug)]
pub struct Nsga2 {
    config: Nsga2Config,
    ctx: StrategyContext,
    rng: Rng,
    seen: Seen,
    /// The current parent population.
    parents: Vec<Scored>,
    /// Children of the current generation told so far.
    children: Vec<Scored>,
    /// Every result not dominated by another one told, in the order told.
    archive: Vec<Scored>,
    random_proposed: usize,
    told: u64,
    generation: u64,
}

impl Nsga2 {
    /// # Errors
    /// A config that [`Nsga2Config::check`] refuses, or no objective.
    pub fn new(config: Nsga2Config, ctx: StrategyContext) -> Result<Self, ConfigError> {
        config.check()?;
        if ctx.objectives.is_empty() {
            return Err(ConfigError(format!("{NAME}: needs at least one objective")));
        }
        Ok(Nsga2 {
            rng: ctx.rng(),
            seen: Seen::new(&ctx.space),
            config,
            ctx,
            parents: Vec::new(),
            children: Vec::new(),
            archive: Vec::new(),
            random_proposed: 0,
            told: 0,
            generation: 0,
        })
    }

    /// The results told so far that no other result dominates, in the order told, with
    /// their scores per objective (larger is better; minimized objectives negated).
    /// Failed trials are left out.
    pub fn non_dominated(&self) -> Vec<(Genotype, Vec<f64>)> {
        self.archive
            .iter()
            .map(|m| (m.genotype.clone(), m.point()))
            .collect()
    }

    /// The current parent population with its scores, as in [`Nsga2::non_dominated`]
    /// (failures score `-inf`).
    pub fn population(&self) -> Vec<(Genotype, Vec<f64>)> {
        self.parents
            .iter()
            .map(|m| (m.genotype.clone(), m.point()))
            .collect()
    }

    /// How many environmental selections have happened.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn remember(&mut self, m: &Scored) {
        if m.scores.iter().all(Option::is_none) {
            return;
        }
        let p = m.point();
        if self.archive.iter().any(|a| dominates(&a.point(), &p)) {
            return;
        }
        self.archive.retain(|a| !dominates(&p, &a.point()));
        self.archive.push(m.clone());
    }

    /// Merges parents and children and keeps the best `population` by rank, then by
    /// crowding distance; ties keep the older member. Survivors stay in merge order.
    fn select(&mut self) {
        let mut pool = std::mem::take(&mut self.parents);
        pool.append(&mut self.children);
        let info = rank_and_crowd(&pool);
        let mut order: Vec<usize> = (0..pool.len()).collect();
        order.sort_by(|&a, &b| {
            info[a]
                .0
                .cmp(&info[b].0)
                .then(info[b].1.total_cmp(&info[a].1))
        });
        order.truncate(self.config.population);
        order.sort_unstable();
        self.parents = order.into_iter().map(|i| pool[i].clone()).collect();
        self.generation += 1;
    }
}

/// Each member's non-domination rank (0: the first front) and crowding distance within
/// its front.
fn rank_and_crowd(members: &[Scored]) -> Vec<(usize, f64)> {
    let points: Vec<Vec<f64>> = members.iter().map(Scored::point).collect();
    let mut out = vec![(0, 0.0); points.len()];
    for (r, front) in non_dominated_sort(&points).iter().enumerate() {
        let front_points: Vec<Vec<f64>> = front.iter().map(|&i| points[i].clone()).collect();
        let distances = crowding_distance(&finite(front_points));
        for (&i, d) in front.iter().zip(distances) {
            out[i] = (r, if d.is_nan() { 0.0 } else { d });
        }
    }
    out
}

/// The points with infinities (failed objectives) moved just beyond the finite range of
/// their objective: crowding distance divides by the range, and an infinite range would
/// make every distance in the front NaN.
fn finite(mut points: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let dims = points.first().map_or(0, Vec::len);
    for m in 0..dims {
        let finite_values = points.iter().map(|p| p[m]).filter(|v| v.is_finite());
        let (lo, hi) = finite_values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 0.0) };
        for p in &mut points {
            if p[m] == f64::NEG_INFINITY {
                p[m] = lo - 1.0;
            } else if p[m] == f64::INFINITY {
                p[m] = hi + 1.0;
            }
        }
    }
    points
}

/// Binary tournament: the better of two distinct random members by rank, then crowding;
/// a tie goes to the one drawn first.
fn tournament(info: &[(usize, f64)], rng: &mut Rng) -> usize {
    if info.len() == 1 {
        return 0;
    }
    let pair = rng.sample_indices(info.len(), 2);
    let (a, b) = (pair[0], pair[1]);
    let b_better = info[b].0 < info[a].0 || (info[b].0 == info[a].0 && info[b].1 > info[a].1);
    if b_better { b } else { a }
}

impl Strategy for Nsga2 {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        let mut out = Vec::with_capacity(n);
        // Parents do not change during an ask, so they are ranked once.
        let mut info: Option<Vec<(usize, f64)>> = None;
        for _ in 0..n {
            let space = &*self.ctx.space;
            let child = if self.random_proposed < self.config.population {
                let g = self.seen.fresh(&mut self.rng);
                self.random_proposed += usize::from(g.is_some());
                g
            } else if self.parents.is_empty() {
                // The whole initial population is in flight.
                break;
            } else {
                let parents = &self.parents;
                let info = info.get_or_insert_with(|| rank_and_crowd(parents));
                self.seen.novel(&mut self.rng, |rng| {
                    let a = &parents[tournament(info, rng)].genotype;
                    let b = &parents[tournament(info, rng)].genotype;
                    let mix = space.crossover(a, b, rng).unwrap_or_else(|| a.clone());
                    space.mutate(&mix, rng)
                })
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
        let m = Scored {
            genotype: result.trial.genotype.clone(),
            scores: self
                .ctx
                .objectives
                .iter()
                .map(|o| clean(o.score(&result.outcome)))
                .collect(),
        };
        self.remember(&m);
        // Results are told in the order asked, so the first ones are the random samples.
        if self.told < self.random_proposed as u64 {
            self.parents.push(m);
        } else {
            self.children.push(m);
            if self.children.len() >= self.config.population {
                self.select();
            }
        }
        self.told += 1;
    }

    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        to_checkpoint(&State {
            rng: self.rng.clone(),
            seen: self.seen.sorted(),
            parents: self.parents.clone(),
            children: self.children.clone(),
            archive: self.archive.clone(),
            random_proposed: self.random_proposed,
            told: self.told,
            generation: self.generation,
        })
    }

    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        let state: State = from_checkpoint(state)?;
        self.rng = state.rng;
        self.seen.replace(state.seen);
        self.parents = state.parents;
        self.children = state.children;
        self.archive = state.archive;
        self.random_proposed = state.random_proposed;
        self.told = state.told;
        self.generation = state.generation;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nas_core::testkit::*;
    use nas_core::{Goal, Objective, Outcome};
    use serde_json::json;
    use std::collections::BTreeSet;
    use std::sync::Arc;

    /// Two objectives on 8 decisions of 3 choices: maximize the number of 1s, minimize
    /// the number of decisions that are not 2. The front is every genotype without a 0:
    /// k ones and 8 - k twos score (k, -k), for k in 0..=8.
    fn objectives() -> Vec<Objective> {
        vec![
            Objective {
                metric: "ones".into(),
                goal: Goal::Maximize,
            },
            Objective {
                metric: "cost".into(),
                goal: Goal::Minimize,
            },
        ]
    }

    fn two_objectives(g: &Genotype) -> Outcome {
        let ix = g.indices().unwrap();
        let ones = ix.iter().filter(|&&v| v == 1).count();
        let twos = ix.iter().filter(|&&v| v == 2).count();
        completed(&[("ones", ones as f64), ("cost", (ix.len() - twos) as f64)])
    }

    /// [`two_objectives`], failing where the first two decisions are both 0.
    fn two_objectives_with_failures(g: &Genotype) -> Outcome {
        let ix = g.indices().unwrap();
        if ix[0] == 0 && ix[1] == 0 {
            Outcome::Failed {
                reason: "toy".into(),
            }
        } else {
            two_objectives(g)
        }
    }

    fn space() -> Arc<dyn nas_core::SearchSpace> {
        toy(8, 3)
    }

    fn front() -> BTreeSet<(i64, i64)> {
        (0..=8).map(|k| (k, -k)).collect()
    }

    fn as_ints(points: impl IntoIterator<Item = Vec<f64>>) -> BTreeSet<(i64, i64)> {
        points
            .into_iter()
            .map(|p| (p[0] as i64, p[1] as i64))
            .collect()
    }

    #[test]
    fn conformance() {
        check_strategy(NAME, json!({"population": 10}));
        // Two objectives, on the twin toy: both metrics are functions of the genotype's
        // canonical form, so twins score the same.
        Conformance::new(NAME, json!({"population": 8}))
            .objectives(objectives())
            .eval(|g| two_objectives_with_failures(&canonical(g)))
            .run();
    }

    #[test]
    fn final_population_covers_the_front() {
        for seed in 0..4 {
            for workers in [1, 8] {
                let config = Nsga2Config { population: 20 };
                let mut s = Nsga2::new(config, ctx(space(), objectives(), seed)).unwrap();
                let mut d = Driver::new(space(), workers);
                d.run(&mut s, &two_objectives_with_failures, 1000);
                let population = as_ints(s.population().into_iter().map(|(_, p)| p));
                assert_eq!(population, front(), "seed {seed}, {workers} workers");
                assert!(s.generation() >= 40);
                // The archive holds exactly the evaluated genotypes on the front.
                let on_front: BTreeSet<Genotype> = d
                    .told
                    .iter()
                    .map(|r| r.trial.genotype.clone())
                    .filter(|g| g.indices().unwrap().iter().all(|&v| v != 0))
                    .collect();
                let archived: BTreeSet<Genotype> =
                    s.non_dominated().into_iter().map(|(g, _)| g).collect();
                assert!(archived == on_front, "seed {seed}, {workers} workers");
            }
        }
    }

    #[test]
    fn single_objective_still_optimizes() {
        let mut s = Nsga2Config { population: 20 }
            .build(ctx(toy(8, 4), vec![acc()], 2))
            .unwrap();
        let mut d = Driver::new(toy(8, 4), 4);
        d.run(&mut *s, &onemax, 1000);
        assert!(d.first_reaching(8.0).is_some(), "best {:?}", d.best());
    }

    #[test]
    fn crowding_survives_infinities() {
        let members: Vec<Scored> = [
            vec![Some(1.0), None],
            vec![None, Some(1.0)],
            vec![Some(0.5), Some(0.5)],
        ]
        .into_iter()
        .map(|scores| Scored {
            genotype: Genotype::from_indices([0]),
            scores,
        })
        .collect();
        let info = rank_and_crowd(&members);
        assert!(info.iter().all(|(r, d)| *r == 0 && !d.is_nan()), "{info:?}");
    }

    #[test]
    fn config_errors_name_the_field() {
        let err = Nsga2Config { population: 0 }
            .build(ctx(space(), objectives(), 0))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`population`") && err.starts_with("nsga2"),
            "{err}"
        );
        assert!(
            Nsga2Config::default()
                .build(ctx(space(), vec![], 0))
                .is_err()
        );
    }
}
