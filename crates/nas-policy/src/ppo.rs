//! PPO (Schulman et al. 2017, clipped objective) with GAE, as Stable-Baselines3 runs it:
//! parallel environments stepped in lockstep, a rollout of fixed length, advantages
//! normalized per minibatch, several epochs of minibatch steps per rollout, episodes cut
//! by the step limit bootstrapped from the value of their last state.
//!
//! The policy and the value function are two networks of the trial's architecture (SB3's
//! default `MlpPolicy` has separate policy and value layers too), each with its own Adam.
//! Acting runs the tape-free copies on the inner device; actions are drawn in `f64` from
//! our generator, so a seed gives the same episodes, updates and return on a CPU backend.
//!
//! Why PPO and not REINFORCE with a baseline: PPO is the default on-policy method of
//! SB3 and CleanRL, and their tuned settings for these tasks exist (RL Zoo), so a
//! network's return measures the network, not an untuned learner.

use crate::config::PolicyConfig;
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use nas_control::Environment;
use nas_core::rng::derive_seed;
use nas_core::{Control, EvalError, Metrics, Reporter, Rng};
use nas_nn::TrainableNetwork;

/// What training cost and how it went.
#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    pub env_steps: u64,
    pub updates: u64,
    /// Mean return of the last (up to 20) training episodes that finished.
    pub train_return: f64,
    pub episodes: u64,
}

/// The environments of one run, their current observations and episodes.
struct Envs {
    envs: Vec<Box<dyn Environment>>,
    obs: Vec<Vec<f32>>,
    lengths: Vec<usize>,
    returns: Vec<f64>,
    finished: Vec<f64>,
    resets: Rng,
}

impl Envs {
    fn new(make: &dyn Fn() -> Box<dyn Environment>, n: usize, seed: u64) -> Self {
        let mut resets = Rng::new(seed);
        let mut envs: Vec<_> = (0..n).map(|_| make()).collect();
        let obs = envs.iter_mut().map(|e| e.reset(&mut resets)).collect();
        Envs {
            envs,
            obs,
            lengths: vec![0; n],
            returns: vec![0.0; n],
            finished: Vec::new(),
            resets,
        }
    }
}

/// Observations as a `[n, size, 1, 1]` batch: the networks take images, and a vector is
/// a one-pixel image with a channel per entry.
pub(crate) fn batch_of(obs: &[&[f32]], device: &Device) -> Tensor<4> {
    let size = obs.first().map_or(0, |o| o.len());
    let flat: Vec<f32> = obs.iter().flat_map(|o| o.iter().copied()).collect();
    Tensor::from_data(TensorData::new(flat, [obs.len(), size, 1, 1]), device)
}

/// `t`'s values, refused when one is not finite: a diverged policy is a failed trial.
pub(crate) fn values_of<const D: usize>(t: Tensor<D>, what: &str) -> Result<Vec<f32>, EvalError> {
    let v = t
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| EvalError::Fatal(format!("reading the {what}: {e:?}")))?;
    if v.iter().any(|x| !x.is_finite()) {
        return Err(EvalError::Failed(format!(
            "the {what} diverged: an output is not finite"
        )));
    }
    Ok(v)
}

/// The softmax of `logits` in `f64`.
pub(crate) fn probabilities(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v)) as f64;
    let e: Vec<f64> = logits.iter().map(|&v| (v as f64 - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

/// An action drawn from `p` with one uniform number.
fn draw(p: &[f64], rng: &mut Rng) -> usize {
    let u = rng.uniform();
    let mut acc = 0.0;
    for (k, pk) in p.iter().enumerate() {
        acc += pk;
        if u < acc {
            return k;
        }
    }
    p.len() - 1
}

/// One rollout's experience, time-major (`[step][env]`).
#[derive(Default)]
struct Rollout {
    obs: Vec<Vec<f32>>,
    actions: Vec<usize>,
    log_probs: Vec<f32>,
    values: Vec<f64>,
    rewards: Vec<f64>,
    dones: Vec<bool>,
}

/// Trains `policy` (and `value`) by PPO on environments from `make` for
/// `config.steps * fraction` steps, reporting the training return after each tenth of
/// the updates.
///
/// # Errors
/// A diverged policy or value (failed trial), a pruned trial.
#[allow(clippy::too_many_arguments)]
pub fn train(
    config: &PolicyConfig,
    make: &dyn Fn() -> Box<dyn Environment>,
    policy: &mut dyn TrainableNetwork,
    value: &mut dyn TrainableNetwork,
    device: &Device,
    fraction: f64,
    seed: u64,
    reporter: &mut dyn Reporter,
) -> Result<Training, EvalError> {
    let (n, horizon) = (config.envs, config.rollout);
    let steps = ((config.steps as f64 * fraction).round() as u64).max(1);
    let updates = steps.div_ceil((n * horizon) as u64).max(1);
    let train_device = device.clone().autodiff();
    let mut envs = Envs::new(make, n, derive_seed(seed, 1));
    let mut actions_rng = Rng::new(derive_seed(seed, 2));
    let mut order_rng = Rng::new(derive_seed(seed, 3));
    let report_every = updates.div_ceil(10).max(1);
    let mut reports = 0u32;
    for update in 0..updates {
        let progress_left = 1.0 - update as f64 / updates as f64;
        let rollout = collect(config, &mut envs, policy, value, device, &mut actions_rng)?;
        let last = {
            let obs: Vec<&[f32]> = envs.obs.iter().map(Vec::as_slice).collect();
            values_of(value.infer(batch_of(&obs, device)), "value function")?
        };
        let (advantages, returns) = gae(config, &rollout, &last, n);
        let samples = rollout.actions.len();
        let mut order: Vec<usize> = (0..samples).collect();
        for _ in 0..config.epochs {
            order_rng.shuffle(&mut order);
            for chunk in order.chunks(config.minibatch) {
                step_minibatch(
                    config,
                    &rollout,
                    &advantages,
                    &returns,
                    chunk,
                    policy,
                    value,
                    &train_device,
                    progress_left,
                )?;
            }
        }
        if (update + 1) % report_every == 0 || update + 1 == updates {
            reports += 1;
            let mut m = Metrics::with_capacity(2);
            m.set("train_return", recent_return(&envs.finished));
            m.set("env_steps", ((update + 1) * (n * horizon) as u64) as f64);
            if reporter.report(reports, &m) == Control::Stop {
                return Err(EvalError::Pruned {
                    step: reports,
                    metrics: m,
                });
            }
        }
    }
    Ok(Training {
        env_steps: updates * (n * horizon) as u64,
        updates,
        train_return: recent_return(&envs.finished),
        episodes: envs.finished.len() as u64,
    })
}

/// Mean of the last 20 finished episodes' returns (NaN before any finished).
fn recent_return(finished: &[f64]) -> f64 {
    let last = &finished[finished.len().saturating_sub(20)..];
    if last.is_empty() {
        return f64::NAN;
    }
    last.iter().sum::<f64>() / last.len() as f64
}

/// Steps every environment `config.rollout` times with actions drawn from the policy.
fn collect(
    config: &PolicyConfig,
    envs: &mut Envs,
    policy: &dyn TrainableNetwork,
    value: &dyn TrainableNetwork,
    device: &Device,
    rng: &mut Rng,
) -> Result<Rollout, EvalError> {
    let mut r = Rollout::default();
    for _ in 0..config.rollout {
        let obs: Vec<&[f32]> = envs.obs.iter().map(Vec::as_slice).collect();
        let x = batch_of(&obs, device);
        let logits = values_of(policy.infer(x.clone()), "policy")?;
        let values = values_of(value.infer(x), "value function")?;
        let actions = logits.len() / obs.len().max(1);
        for (i, env) in envs.envs.iter_mut().enumerate() {
            let p = probabilities(&logits[i * actions..(i + 1) * actions]);
            let a = draw(&p, rng);
            let step = env.step(a);
            envs.lengths[i] += 1;
            envs.returns[i] += step.reward;
            let mut reward = step.reward;
            let truncated = !step.terminated && envs.lengths[i] >= env.max_steps();
            if truncated {
                // Cut by the limit, not ended: the return goes on past it (SB3).
                let v = values_of(
                    value.infer(batch_of(&[&step.observation], device)),
                    "value function",
                )?;
                reward += config.gamma * v[0] as f64;
            }
            r.obs.push(std::mem::take(&mut envs.obs[i]));
            r.actions.push(a);
            r.log_probs.push(p[a].max(1e-300).ln() as f32);
            r.values.push(values[i] as f64);
            r.rewards.push(reward);
            r.dones.push(step.terminated || truncated);
            envs.obs[i] = if step.terminated || truncated {
                envs.finished.push(envs.returns[i]);
                envs.lengths[i] = 0;
                envs.returns[i] = 0.0;
                env.reset(&mut envs.resets)
            } else {
                step.observation
            };
        }
    }
    Ok(r)
}

/// Generalized advantage estimates and the returns the value function is fit to.
fn gae(config: &PolicyConfig, r: &Rollout, last: &[f32], n: usize) -> (Vec<f32>, Vec<f32>) {
    let len = r.rewards.len();
    let mut advantages = vec![0f32; len];
    let mut running = vec![0f64; n];
    for t in (0..len / n).rev() {
        for i in 0..n {
            let k = t * n + i;
            let next_value = if t + 1 == len / n {
                last[i] as f64
            } else {
                r.values[k + n]
            };
            let live = if r.dones[k] { 0.0 } else { 1.0 };
            let delta = r.rewards[k] + config.gamma * next_value * live - r.values[k];
            running[i] = delta + config.gamma * config.gae_lambda * live * running[i];
            advantages[k] = running[i] as f32;
        }
    }
    let returns = advantages
        .iter()
        .zip(&r.values)
        .map(|(a, v)| (*a as f64 + v) as f32)
        .collect();
    (advantages, returns)
}

/// One clipped-objective step of the policy and one squared-error step of the value
/// function on the samples `chunk`.
#[allow(clippy::too_many_arguments)]
fn step_minibatch(
    config: &PolicyConfig,
    r: &Rollout,
    advantages: &[f32],
    returns: &[f32],
    chunk: &[usize],
    policy: &mut dyn TrainableNetwork,
    value: &mut dyn TrainableNetwork,
    device: &Device,
    progress_left: f64,
) -> Result<(), EvalError> {
    let m = chunk.len();
    let obs: Vec<&[f32]> = chunk.iter().map(|&k| r.obs[k].as_slice()).collect();
    let x = batch_of(&obs, device);
    let vector = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [m]), device);
    let mut adv: Vec<f32> = chunk.iter().map(|&k| advantages[k]).collect();
    if m > 1 {
        let mean = adv.iter().map(|&a| a as f64).sum::<f64>() / m as f64;
        let var = adv.iter().map(|&a| (a as f64 - mean).powi(2)).sum::<f64>() / (m - 1) as f64;
        let sd = var.sqrt() + 1e-8;
        adv.iter_mut()
            .for_each(|a| *a = ((*a as f64 - mean) / sd) as f32);
    }
    let adv = vector(adv);
    let old = vector(chunk.iter().map(|&k| r.log_probs[k]).collect());
    let actions = Tensor::<2, Int>::from_data(
        TensorData::new(
            chunk
                .iter()
                .map(|&k| r.actions[k] as i64)
                .collect::<Vec<_>>(),
            [m, 1],
        ),
        device,
    );
    let logits = policy.forward(x.clone());
    let log_p = log_softmax(logits, 1);
    let chosen = log_p.clone().gather(1, actions).reshape([m]);
    let ratio = (chosen - old).exp();
    let clip = config.clip * progress_left;
    let surrogate =
        (ratio.clone() * adv.clone()).min_pair(ratio.clamp(1.0 - clip, 1.0 + clip) * adv);
    let mut loss = -surrogate.mean();
    if config.entropy > 0.0 {
        let entropy = -(softmax(log_p.clone(), 1) * log_p).sum_dim(1).mean();
        loss = loss - entropy * config.entropy;
    }
    let lr = config.learning_rate * progress_left;
    finite(&loss, "policy")?;
    policy.step(loss, lr);
    let predicted = value.forward(x).reshape([m]);
    let target = vector(chunk.iter().map(|&k| returns[k]).collect());
    let value_loss = (predicted - target).powi_scalar(2).mean();
    finite(&value_loss, "value function")?;
    value.step(value_loss, lr);
    Ok(())
}

fn finite(loss: &Tensor<1>, what: &str) -> Result<(), EvalError> {
    let v: f32 = loss.clone().into_scalar();
    if v.is_finite() {
        Ok(())
    } else {
        Err(EvalError::Failed(format!(
            "the {what}'s loss diverged ({v})"
        )))
    }
}
