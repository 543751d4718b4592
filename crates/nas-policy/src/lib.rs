//! The `rl-policy` evaluator: NAS for reinforcement learning. A trial's network (of any
//! space whose registered network takes a vector: the `mlp` space) becomes the policy of
//! an agent on a control task of [`nas_control`]; PPO ([`ppo`]) trains it for a budget of
//! environment steps, and the trial's objective is its mean return over fixed evaluation
//! episodes ([`evaluate`]). Same seed, same CPU backend: the same return, to the bit.
//!
//! The policy maps an observation (given to the network as a one-pixel image with a
//! channel per entry) to one logit per action; the value function is a second network of
//! the same architecture with one output. Dropout, where the architecture has it, is not
//! applied: PPO's ratio of new to old probabilities assumes a deterministic policy.

pub mod config;
pub mod evaluate;
pub mod ppo;

pub use config::PolicyConfig;

use burn::grad_clipping::GradientClipping;
use burn::optim::{AdamConfig, ModuleOptimizer};
use nas_core::evaluator::SIMULATED_SECONDS;
use nas_core::registry::{ConfigError, EvaluatorConfig, Knob};
use nas_core::rng::derive_seed;
use nas_core::{
    EvalError, Evaluator, Goal, MetricRole, MetricSpec, Metrics, Reporter, SearchSpace, Trial,
};
use nas_nn::{NetSpec, SpaceNetwork, Task};
use std::sync::Arc;
use std::time::Instant;

/// `--env` and `--backend` on the command line.
const KNOBS: [Knob; 2] = [Knob::new("env", "env"), Knob::new("backend", "backend")];

impl EvaluatorConfig for PolicyConfig {
    fn knobs(&self) -> &'static [Knob] {
        &KNOBS
    }

    fn build(&self, space: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError> {
        self.check()?;
        let env =
            nas_control::find(&self.env).map_err(|e| ConfigError::field("rl-policy", "env", e))?;
        let probe = (env.make)();
        let network = nas_nn::network_of(space.name()).map_err(ConfigError)?;
        nas_nn::device(&self.backend).map_err(|e| ConfigError(e.to_string()))?;
        let evaluator = PolicyEvaluator {
            space: Arc::clone(space),
            network,
            config: self.clone(),
            env,
            observation: probe.observation_size(),
            actions: probe.actions(),
        };
        network
            .check_task(&evaluator.spec(evaluator.actions).task)
            .map_err(|why| {
                ConfigError(format!(
                    "rl-policy: the {} space's network cannot map the {} environment's {} observations to its actions: {why}",
                    space.name(),
                    self.env,
                    evaluator.observation
                ))
            })?;
        Ok(Arc::new(evaluator))
    }
}

nas_core::register!(
    dyn EvaluatorConfig,
    PolicyConfig,
    "rl-policy",
    "Trains the trial's network as the policy of an agent on a control task (CartPole-v1, Acrobot-v1) with PPO; the objective is the mean return."
);

/// Trains trials' networks as policies.
pub struct PolicyEvaluator {
    pub space: Arc<dyn SearchSpace>,
    pub network: &'static dyn SpaceNetwork,
    pub config: PolicyConfig,
    /// The environment `config.env` names, found once.
    env: &'static nas_control::EnvPlugin,
    observation: usize,
    actions: usize,
}

impl std::fmt::Debug for PolicyEvaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyEvaluator")
            .field("space", &self.space.name())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PolicyEvaluator {
    /// A network from the observation to `outputs` values.
    fn spec(&self, outputs: usize) -> NetSpec {
        NetSpec {
            task: Task::images([self.observation, 1, 1], outputs),
            width: 1,
            depth: 1,
        }
    }

    fn optimizer(&self) -> ModuleOptimizer {
        AdamConfig::new()
            .with_epsilon(1e-5)
            .init()
            .with_grad_clipping(GradientClipping::Norm(self.config.max_grad_norm as f32))
    }
}

impl Evaluator for PolicyEvaluator {
    fn metrics(&self) -> Vec<MetricSpec> {
        let spec = MetricSpec::new;
        use Goal::*;
        use MetricRole::*;
        vec![
            spec(
                "mean_return",
                Maximize,
                Objective,
                "mean return of the greedy policy over the evaluation episodes",
            ),
            spec(
                "return_sd",
                Minimize,
                Report,
                "standard deviation of the evaluation returns",
            ),
            spec(
                "train_return",
                Maximize,
                Report,
                "mean return of the last 20 training episodes",
            ),
            spec("params_m", Minimize, Cost, "policy parameters, millions"),
            spec(
                "flops_m",
                Minimize,
                Cost,
                "FLOPs of one policy step, millions",
            ),
            spec("env_steps", Minimize, Cost, "environment steps of training"),
            spec(
                SIMULATED_SECONDS,
                Minimize,
                Cost,
                "wall-clock seconds of training (real, not modelled)",
            ),
        ]
    }

    fn evaluate(&self, trial: &Trial, reporter: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        let space = self.space.as_ref();
        let g = &trial.genotype;
        let device =
            nas_nn::device(&self.config.backend).map_err(|e| EvalError::Fatal(e.to_string()))?;
        let train_device = device.clone().autodiff();
        let build = |outputs: usize, label: u64| {
            self.network
                .trainable(
                    space,
                    g,
                    &self.spec(outputs),
                    &train_device,
                    derive_seed(trial.seed, label),
                    self.optimizer(),
                )
                .map_err(EvalError::Failed)
        };
        let mut policy = build(self.actions, 10)?;
        let mut value = build(1, 11)?;
        let make = self.env.make;
        let started = Instant::now();
        let fraction = trial.fidelity.data_fraction.unwrap_or(1.0);
        let training = ppo::train(
            &self.config,
            &make,
            policy.as_mut(),
            value.as_mut(),
            &device,
            fraction,
            trial.seed,
            reporter,
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let returns =
            evaluate::returns(&make, policy.as_ref(), self.config.eval_episodes, &device)?;
        let n = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let sd =
            (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        let cost = self
            .network
            .cost(space, g, &self.spec(self.actions))
            .map_err(|e| EvalError::Failed(e.to_string()))?;
        let mut m = Metrics::with_capacity(7);
        m.set("mean_return", mean);
        m.set("return_sd", sd);
        m.set("train_return", training.train_return);
        m.set("params_m", policy.trainable_params() as f64 / 1e6);
        m.set("flops_m", cost.flops_m());
        m.set("env_steps", training.env_steps as f64);
        m.set(SIMULATED_SECONDS, seconds);
        Ok(m)
    }
}
