//! The `rl-policy` evaluator's config: the environment, the backend, the budget of
//! environment steps, and PPO's settings.
//!
//! The defaults are RL Baselines3 Zoo's tuned PPO settings for CartPole-v1 (8
//! environments, 32 steps each per update, minibatches of 256, 20 epochs, learning rate
//! and clip range annealed linearly from 1e-3 and 0.2, gamma 0.98, GAE lambda 0.8, no
//! entropy bonus, gradient norm 0.5), 100,000 steps: the budget at which the zoo reports
//! CartPole solved.

use nas_core::registry::ConfigError;
use serde::{Deserialize, Serialize};

/// Config of the `rl-policy` evaluator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// A registered environment (`cartpole`, `acrobot`, or its Gymnasium id).
    pub env: String,
    /// A registered backend (`flex`, `ndarray`, `wgpu`).
    pub backend: String,
    /// Environment steps of training, over all parallel environments. A trial's
    /// `data_fraction` fidelity trains on that share of them.
    pub steps: u64,
    /// Environments stepped side by side.
    pub envs: usize,
    /// Steps of each environment per update.
    pub rollout: usize,
    pub minibatch: usize,
    /// Passes over each rollout.
    pub epochs: u32,
    /// Adam's learning rate at the start, annealed linearly to zero.
    pub learning_rate: f64,
    pub gamma: f64,
    pub gae_lambda: f64,
    /// PPO's clip range at the start, annealed like the learning rate.
    pub clip: f64,
    /// Weight of the policy's entropy in its loss.
    pub entropy: f64,
    /// Largest gradient norm of each parameter tensor (burn clips per tensor).
    pub max_grad_norm: f64,
    /// Episodes of the final evaluation (greedy actions, the same start states for every
    /// trial).
    pub eval_episodes: usize,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            env: "cartpole".into(),
            backend: "flex".into(),
            steps: 100_000,
            envs: 8,
            rollout: 32,
            minibatch: 256,
            epochs: 20,
            learning_rate: 1e-3,
            gamma: 0.98,
            gae_lambda: 0.8,
            clip: 0.2,
            entropy: 0.0,
            max_grad_norm: 0.5,
            eval_episodes: 100,
        }
    }
}

impl PolicyConfig {
    /// # Errors
    /// The first field out of range, named.
    pub fn check(&self) -> Result<(), ConfigError> {
        let field = |f: &str, why: &str| Err(ConfigError::field("rl-policy", f, why));
        let unit = |v: f64| v > 0.0 && v <= 1.0;
        if self.steps == 0 {
            return field("steps", "must be at least 1");
        }
        if self.envs == 0 || self.envs > 1024 {
            return field("envs", "must be between 1 and 1024");
        }
        if self.rollout == 0 {
            return field("rollout", "must be at least 1");
        }
        if self.minibatch == 0 {
            return field("minibatch", "must be at least 1");
        }
        if self.epochs == 0 {
            return field("epochs", "must be at least 1");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return field("learning_rate", "must be a positive number");
        }
        if !unit(self.gamma) {
            return field("gamma", "must be in (0, 1]");
        }
        if !unit(self.gae_lambda) {
            return field("gae_lambda", "must be in (0, 1]");
        }
        if !(self.clip > 0.0 && self.clip.is_finite()) {
            return field("clip", "must be a positive number");
        }
        if !(self.entropy >= 0.0 && self.entropy.is_finite()) {
            return field("entropy", "must be zero or positive");
        }
        if !(self.max_grad_norm > 0.0 && self.max_grad_norm.is_finite()) {
            return field("max_grad_norm", "must be a positive number");
        }
        if self.eval_episodes == 0 || self.eval_episodes > 10_000 {
            return field("eval_episodes", "must be between 1 and 10000");
        }
        Ok(())
    }
}
