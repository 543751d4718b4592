//! The `reinforce` strategy: an LSTM controller trained with REINFORCE (Zoph & Le 2016),
//! with the exponential-moving-average baseline, entropy bonus, sampling temperature and
//! tanh logit clipping of ENAS (Pham et al. 2018), and Adam.
//!
//! Asynchronous: `ask` samples from the current policy whenever it is asked, and `tell`
//! learns whenever a result arrives, in any order. The choices behind every outstanding
//! proposal are kept (keyed by its genotype, which is all a proposal carries), so the
//! update evaluates the log-probability of exactly the sampled choices under the policy
//! as it is at update time. Every `batch` told results make one Adam step on the mean
//! REINFORCE loss of the batch.

use crate::grid::Grid;
use crate::policy::{Adam, Layout, Policy, Sample, Shaping};
use nas_core::Seen;
use nas_core::registry::{ConfigError, StrategyConfig};
use nas_core::seen::{COVERED_AFTER_MISSES, RETRIES};
use nas_core::strategy::{from_checkpoint, to_checkpoint};
use nas_core::{
    Checkpoint, Genotype, Proposal, Rng, Strategy, StrategyContext, StrategyError, TrialResult,
};
use serde::{Deserialize, Serialize};

const NAME: &str = "reinforce";

/// Config of the `reinforce` strategy.
///
/// The defaults were tuned on the NAS-Bench-201 table (CIFAR-10, 12-epoch validation
/// accuracy as the reward, in percent, 100 evaluations, one worker); see the crate docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReinforceConfig {
    /// LSTM hidden units (also the width of the embeddings and start token).
    pub hidden: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Decay of the moving-average baseline: `b <- decay * b + (1 - decay) * reward`.
    pub baseline_decay: f64,
    /// Weight of the entropy bonus (summed over steps) in the loss; keeps the controller
    /// from collapsing onto its first good architecture. In reward units.
    pub entropy_weight: f64,
    /// Sampling temperature `T` in `C * tanh(logits / T)`.
    pub temperature: f64,
    /// Tanh constant `C` in `C * tanh(logits / T)`; 0 turns the clipping off.
    pub tanh_constant: f64,
    /// Told results per policy update (the REINFORCE batch).
    pub batch: usize,
    /// Never propose a genotype (or one with the same fingerprint) twice: after 100
    /// policy samples that were all seen, a uniformly random unseen one is proposed.
    pub unique: bool,
    /// The reward of a failed trial (or one without the objective's metric); `None`:
    /// such trials are skipped, the policy does not learn from them.
    pub failure_reward: Option<f64>,
    /// Real decisions become this many evenly spaced values (ends included, log-spaced
    /// for log decisions); so do integer ranges wider than `max_choices`.
    pub real_bins: usize,
    /// Integer decisions with at most this many values are categorical over the range.
    pub max_choices: u64,
    /// Initial weights are uniform in `[-init_range, init_range]` (ENAS: 0.1).
    pub init_range: f64,
}

impl Default for ReinforceConfig {
    fn default() -> Self {
        ReinforceConfig {
            hidden: 32,
            learning_rate: 0.01,
            baseline_decay: 0.95,
            entropy_weight: 0.0,
            temperature: 1.0,
            tanh_constant: 2.5,
            batch: 1,
            unique: true,
            failure_reward: None,
            real_bins: 10,
            max_choices: 256,
            init_range: 0.1,
        }
    }
}

impl ReinforceConfig {
    /// # Errors
    /// A field out of its range, named.
    pub fn check(&self) -> Result<(), ConfigError> {
        let field = |f: &str, why: &str| Err(ConfigError::field(NAME, f, why));
        let finite = |v: f64| v.is_finite();
        if self.hidden == 0 || self.hidden > 4096 {
            return field("hidden", "must be in 1..=4096");
        }
        if !(finite(self.learning_rate) && self.learning_rate > 0.0) {
            return field("learning_rate", "must be positive");
        }
        if !(finite(self.baseline_decay) && (0.0..1.0).contains(&self.baseline_decay)) {
            return field("baseline_decay", "must be in [0, 1)");
        }
        if !(finite(self.entropy_weight) && self.entropy_weight >= 0.0) {
            return field("entropy_weight", "must be finite and at least 0");
        }
        if !(finite(self.temperature) && self.temperature > 0.0) {
            return field("temperature", "must be positive");
        }
        if !(finite(self.tanh_constant) && self.tanh_constant >= 0.0) {
            return field(
                "tanh_constant",
                "must be finite and at least 0 (0: no clipping)",
            );
        }
        if self.batch == 0 {
            return field("batch", "must be at least 1");
        }
        if self.failure_reward.is_some_and(|r| !r.is_finite()) {
            return field("failure_reward", "must be finite");
        }
        if self.real_bins == 0 {
            return field("real_bins", "must be at least 1");
        }
        if self.max_choices == 0 {
            return field("max_choices", "must be at least 1");
        }
        if !(finite(self.init_range) && self.init_range >= 0.0) {
            return field("init_range", "must be finite and at least 0");
        }
        Ok(())
    }
}

impl StrategyConfig for ReinforceConfig {
    fn build(&self, ctx: StrategyContext) -> Result<Box<dyn Strategy>, ConfigError> {
        Ok(Box::new(Reinforce::new(self.clone(), ctx)?))
    }
}

nas_core::register!(
    dyn StrategyConfig,
    ReinforceConfig,
    NAME,
    "REINFORCE: an LSTM controller samples architectures, trained on their rewards (Zoph & Le 2016)."
);

/// A proposal whose result has not been told yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Outstanding {
    genotype: Genotype,
    actions: Vec<u32>,
}

/// What a checkpoint holds: everything `ask` and `tell` read.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    rng: Rng,
    params: Vec<f32>,
    adam: Adam,
    baseline: Option<f64>,
    /// Told results waiting for the batch to fill.
    pending: Vec<Sample>,
    /// Asked, not yet told, oldest first.
    outstanding: Vec<Outstanding>,
    /// Fingerprints proposed so far, sorted.
    seen: Vec<u64>,
    updates: u64,
}

/// The REINFORCE controller strategy.
#[derive(Debug)]
pub struct Reinforce {
    config: ReinforceConfig,
    ctx: StrategyContext,
    grid: Grid,
    policy: Policy,
    rng: Rng,
    params: Vec<f32>,
    adam: Adam,
    baseline: Option<f64>,
    pending: Vec<Sample>,
    outstanding: Vec<Outstanding>,
    /// The functions proposed so far, bounded by the grid: a unique search stops when
    /// the controller can propose nothing new.
    seen: Seen,
    updates: u64,
}

impl Reinforce {
    /// # Errors
    /// A config that [`ReinforceConfig::check`] refuses, or a space with a decision that
    /// has no value.
    pub fn new(config: ReinforceConfig, ctx: StrategyContext) -> Result<Self, ConfigError> {
        config.check()?;
        let grid = Grid::new(ctx.space.decisions(), config.max_choices, config.real_bins)
            .map_err(|e| ConfigError(format!("{NAME}: cannot search this space: {e}")))?;
        let policy = Policy::new(
            Layout::new(config.hidden, grid.choices()),
            Shaping {
                temperature: config.temperature,
                tanh_constant: config.tanh_constant,
            },
        );
        let mut rng = ctx.rng();
        let params = policy.init(config.init_range, &mut rng);
        let bound = ctx
            .space
            .distinct_functions()
            .map_or(grid.size(), |s| s.min(grid.size()));
        let seen = Seen::with_bound(&ctx.space, Some(bound));
        Ok(Reinforce {
            adam: Adam::new(params.len()),
            params,
            rng,
            grid,
            policy,
            config,
            ctx,
            baseline: None,
            pending: Vec::new(),
            outstanding: Vec::new(),
            seen,
            updates: 0,
        })
    }

    /// The controller's structure.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The controller's current weights.
    pub fn params(&self) -> &[f32] {
        &self.params
    }

    /// How each decision's values are enumerated.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// The number of Adam steps taken.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// The moving-average baseline, once a reward has been told.
    pub fn baseline(&self) -> Option<f64> {
        self.baseline
    }

    /// A genotype drawn from the current policy that is not a proposal: it is not
    /// recorded as outstanding or seen, and nothing is learned from it. ENAS samples the
    /// cell of every shared-weight training step this way.
    pub fn sample(&mut self) -> Genotype {
        self.grid
            .genotype(&self.policy.sample(&self.params, &mut self.rng))
    }

    /// The greedy architecture of the current policy.
    pub fn greedy(&self) -> Genotype {
        self.grid.genotype(&self.policy.greedy(&self.params))
    }

    /// The policy's distribution over each decision's choices along its greedy
    /// architecture (each decision's given the greedy choices before it): what the
    /// controller has learned, as a report plots it over a search.
    pub fn greedy_distributions(&self) -> Vec<Vec<f64>> {
        let greedy = self.policy.greedy(&self.params);
        self.policy.distributions(&self.params, &greedy)
    }

    /// The next proposal's choices, or `None` when a unique search has covered the grid.
    fn next(&mut self) -> Option<Vec<u32>> {
        if !self.config.unique {
            return Some(self.policy.sample(&self.params, &mut self.rng));
        }
        if self.seen.covered() {
            return None;
        }
        for _ in 0..RETRIES {
            let a = self.policy.sample(&self.params, &mut self.rng);
            if self.seen.insert(&self.grid.genotype(&a)) {
                return Some(a);
            }
        }
        // The policy keeps proposing what was tried: an unseen genotype, uniformly.
        let choices = self.grid.choices();
        for _ in 0..COVERED_AFTER_MISSES {
            if self.seen.covered() {
                return None;
            }
            let a: Vec<u32> = choices.iter().map(|&k| self.rng.index(k) as u32).collect();
            if self.seen.insert(&self.grid.genotype(&a)) {
                return Some(a);
            }
        }
        None
    }

    /// One Adam step on the pending batch, which is then emptied. A loss or gradient
    /// that is not finite skips the step rather than poison the weights.
    fn update(&mut self) {
        let batch = std::mem::take(&mut self.pending);
        let Some((loss, grad)) =
            self.policy
                .loss_and_grad(&self.params, &batch, self.config.entropy_weight)
        else {
            return;
        };
        if !loss.is_finite() || grad.iter().any(|g| !g.is_finite()) {
            return;
        }
        self.adam
            .step(&mut self.params, &grad, self.config.learning_rate);
        self.updates += 1;
    }
}

impl Strategy for Reinforce {
    fn ask(&mut self, n: usize) -> Vec<Proposal> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let Some(actions) = self.next() else { break };
            let genotype = self.grid.genotype(&actions);
            self.outstanding.push(Outstanding {
                genotype: genotype.clone(),
                actions,
            });
            out.push(genotype.into());
        }
        out
    }

    fn tell(&mut self, result: &TrialResult) {
        let g = &result.trial.genotype;
        // The oldest outstanding proposal of this genotype; a genotype we did not propose
        // (none is in a normal search) is mapped onto the grid.
        let actions = match self.outstanding.iter().position(|o| &o.genotype == g) {
            Some(i) => self.outstanding.remove(i).actions,
            None => match self.grid.actions(g) {
                Some(a) => a,
                None => return,
            },
        };
        let reward = match self.ctx.score(result) {
            Some(r) if r.is_finite() => r,
            _ => match self.config.failure_reward {
                Some(r) => r,
                None => return,
            },
        };
        let advantage = self.baseline.map_or(0.0, |b| reward - b);
        let decay = self.config.baseline_decay;
        self.baseline = Some(
            self.baseline
                .map_or(reward, |b| decay * b + (1.0 - decay) * reward),
        );
        self.pending.push(Sample { actions, advantage });
        if self.pending.len() >= self.config.batch {
            self.update();
        }
    }

    fn checkpoint(&self) -> Result<Checkpoint, StrategyError> {
        let seen = self.seen.sorted();
        to_checkpoint(&State {
            rng: self.rng.clone(),
            params: self.params.clone(),
            adam: self.adam.clone(),
            baseline: self.baseline,
            pending: self.pending.clone(),
            outstanding: self.outstanding.clone(),
            seen,
            updates: self.updates,
        })
    }

    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError> {
        let state: State = from_checkpoint(state)?;
        let len = self.policy.layout.len;
        if state.params.len() != len || state.adam.m.len() != len || state.adam.v.len() != len {
            return Err(StrategyError(format!(
                "{NAME}: the checkpoint has {} weights, this controller {len} (another config?)",
                state.params.len()
            )));
        }
        let fits = |a: &[u32]| self.policy.layout.fits(a);
        if !state.pending.iter().all(|s| fits(&s.actions))
            || !state.outstanding.iter().all(|o| fits(&o.actions))
        {
            return Err(StrategyError(format!(
                "{NAME}: the checkpoint's choices do not fit this space"
            )));
        }
        self.rng = state.rng;
        self.params = state.params;
        self.adam = state.adam;
        self.baseline = state.baseline;
        self.pending = state.pending;
        self.outstanding = state.outstanding;
        self.seen.replace(state.seen);
        self.updates = state.updates;
        Ok(())
    }
}
