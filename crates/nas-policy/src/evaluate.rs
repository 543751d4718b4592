//! The final evaluation: a fixed set of episodes (the same start states for every trial
//! and seed, so trials are compared on the same episodes), the policy's most likely
//! action at each step (SB3's `deterministic=True`), run side by side as one batch.

use crate::ppo::{batch_of, values_of};
use burn::tensor::Device;
use nas_control::Environment;
use nas_core::{EvalError, Rng};
use nas_nn::TrainableNetwork;

/// The seed of the evaluation episodes' start states.
const EVAL_SEED: u64 = 0x00e7_a15e_ed00;

/// Each episode's return, in order.
///
/// # Errors
/// A policy whose outputs are not finite.
pub fn returns(
    make: &dyn Fn() -> Box<dyn Environment>,
    policy: &dyn TrainableNetwork,
    episodes: usize,
    device: &Device,
) -> Result<Vec<f64>, EvalError> {
    let mut rng = Rng::new(EVAL_SEED);
    let mut envs: Vec<Box<dyn Environment>> = (0..episodes).map(|_| make()).collect();
    let mut obs: Vec<Vec<f32>> = envs.iter_mut().map(|e| e.reset(&mut rng)).collect();
    let mut returns = vec![0.0; episodes];
    let mut running: Vec<usize> = (0..episodes).collect();
    let limit = envs.first().map_or(0, |e| e.max_steps());
    for _ in 0..limit {
        if running.is_empty() {
            break;
        }
        let batch: Vec<&[f32]> = running.iter().map(|&i| obs[i].as_slice()).collect();
        let logits = values_of(policy.infer(batch_of(&batch, device)), "policy")?;
        let actions = logits.len() / running.len();
        let mut still = Vec::with_capacity(running.len());
        for (row, &i) in running.iter().enumerate() {
            let l = &logits[row * actions..(row + 1) * actions];
            let a = (0..actions).fold(0, |best, k| if l[k] > l[best] { k } else { best });
            let step = envs[i].step(a);
            returns[i] += step.reward;
            if !step.terminated {
                obs[i] = step.observation;
                still.push(i);
            }
        }
        running = still;
    }
    Ok(returns)
}
