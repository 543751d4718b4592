//! Black-box strategies: ask for proposals, tell them results.

use crate::rng::Rng;
use crate::space::SearchSpace;
use crate::trial::{Objective, Proposal, TrialResult};
use serde::{Serialize, de::DeserializeOwned};
use std::fmt;
use std::sync::Arc;

/// What a strategy is built with.
#[derive(Debug, Clone)]
pub struct StrategyContext {
    pub space: Arc<dyn SearchSpace>,
    /// At least one; the first is the primary objective of single-objective strategies.
    pub objectives: Vec<Objective>,
    /// The strategy's own seed, derived from the experiment seed.
    pub seed: u64,
}

impl StrategyContext {
    /// The primary objective's score of a result, larger is better; `None` for a failed
    /// trial or a missing metric.
    pub fn score(&self, result: &TrialResult) -> Option<f64> {
        self.objectives.first()?.score(&result.outcome)
    }

    /// A fresh generator from the strategy seed.
    pub fn rng(&self) -> Rng {
        Rng::new(self.seed)
    }
}

/// A strategy's state as JSON: what [`Strategy::checkpoint`] returns.
pub type Checkpoint = serde_json::Value;

/// A checkpoint or restore that did not work.
#[derive(Debug, thiserror::Error)]
#[error("strategy state: {0}")]
pub struct StrategyError(pub String);

/// A black-box search strategy (random search, evolution, RL controllers...).
///
/// The runner calls `ask` when it has free slots and `tell` once per finished trial, in
/// trial-id order. A strategy must be deterministic given its seed and the sequence of
/// calls, and `checkpoint` must capture everything `ask`/`tell` depend on, so that
/// `restore(checkpoint())` followed by the same calls gives the same proposals.
pub trait Strategy: Send + fmt::Debug {
    /// Up to `n` proposals. Fewer, or none, means "waiting for results"; none while no
    /// trial is running means the strategy has nothing more to try.
    fn ask(&mut self, n: usize) -> Vec<Proposal>;

    /// A finished trial (completed, pruned or failed).
    fn tell(&mut self, result: &TrialResult);

    /// The strategy's whole state as JSON.
    ///
    /// # Errors
    /// If the state cannot be serialized.
    fn checkpoint(&self) -> Result<Checkpoint, StrategyError>;

    /// Replaces the state with a checkpoint taken from a strategy of the same config.
    ///
    /// # Errors
    /// If the checkpoint does not fit this strategy.
    fn restore(&mut self, state: Checkpoint) -> Result<(), StrategyError>;
}

/// Serializes a state struct for [`Strategy::checkpoint`].
///
/// # Errors
/// If `state` does not serialize to JSON.
pub fn to_checkpoint<T: Serialize>(state: &T) -> Result<Checkpoint, StrategyError> {
    serde_json::to_value(state).map_err(|e| StrategyError(e.to_string()))
}

/// Reads a state struct back for [`Strategy::restore`].
///
/// # Errors
/// If the JSON does not have the state's shape.
pub fn from_checkpoint<T: DeserializeOwned>(state: Checkpoint) -> Result<T, StrategyError> {
    serde_json::from_value(state).map_err(|e| StrategyError(e.to_string()))
}
