//! The controller network: a one-layer LSTM that emits one decision per step (Zoph & Le
//! 2016, in the form ENAS used).
//!
//! Step 0 reads a learned start token; step `t > 0` reads the embedding of the choice
//! taken at step `t - 1` (one embedding table per decision, because decisions have
//! different numbers of choices and different meanings). Each step's hidden state goes
//! through that decision's own linear head; the logits are shaped as
//! `C * tanh(logits / T)` (temperature `T`, tanh constant `C`; `C = 0` leaves them
//! unclipped) and a softmax gives the choice's distribution.
//!
//! The parameters are one flat `Vec<f32>` (see [`Layout`]), so that a checkpoint is plain
//! JSON and the optimizer is a loop over a slice. Two forward passes read it:
//!
//! - a plain-Rust one in `f64` ([`Policy::sample`], [`Policy::distributions`],
//!   [`Policy::loss`]): sampling runs it once per proposal, where burn's per-operation
//!   dispatch would cost far more than the arithmetic of a 6-step, 32-unit LSTM;
//! - a burn one with autodiff ([`Policy::loss_and_grad`]) for the REINFORCE gradient,
//!   batched over the architectures of one update.
//!
//! The tests check that both give the same distributions, and the burn gradient against
//! finite differences of the plain-Rust loss.

use burn::tensor::activation::{log_softmax, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};
use nas_core::Rng;

/// How logits become a distribution: `C * tanh(logits / T)`, then a softmax (ENAS).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shaping {
    /// `T`: above 1 flattens the distribution, which keeps the controller exploring.
    pub temperature: f64,
    /// `C`: bounds every logit to `[-C, C]`, so no choice's probability can collapse to
    /// zero; `0` disables the clipping.
    pub tanh_constant: f64,
}

impl Shaping {
    fn apply(&self, x: f64) -> f64 {
        let y = x / self.temperature;
        if self.tanh_constant > 0.0 {
            self.tanh_constant * y.tanh()
        } else {
            y
        }
    }
}

/// One parameter block: where it starts in the flat vector and its `[rows, cols]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
}

impl Block {
    fn len(&self) -> usize {
        self.rows * self.cols
    }
    fn slice<'a, P>(&self, p: &'a [P]) -> &'a [P] {
        &p[self.offset..self.offset + self.len()]
    }
}

/// Where every parameter lives in the flat vector.
///
/// The LSTM reads `[x, h]` (both `hidden` wide) as one row and multiplies it by a
/// `[2H, 4H]` matrix whose column groups are the input, forget, cell and output gates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub hidden: usize,
    /// The number of choices of each decision, in order.
    pub choices: Vec<usize>,
    pub lstm_w: Block,
    pub lstm_b: Block,
    pub start: Block,
    /// `embedding[d]`: the input of step `d + 1` for each choice of decision `d`; the last
    /// decision feeds nothing, so there is one table fewer than decisions.
    pub embedding: Vec<Block>,
    pub head_w: Vec<Block>,
    pub head_b: Vec<Block>,
    /// The number of parameters.
    pub len: usize,
}

impl Layout {
    pub fn new(hidden: usize, choices: Vec<usize>) -> Self {
        let mut next = 0;
        let mut block = |rows: usize, cols: usize| {
            let b = Block {
                offset: next,
                rows,
                cols,
            };
            next += rows * cols;
            b
        };
        let lstm_w = block(2 * hidden, 4 * hidden);
        let lstm_b = block(1, 4 * hidden);
        let start = block(1, hidden);
        let n = choices.len();
        let embedding = choices[..n.saturating_sub(1)]
            .iter()
            .map(|&k| block(k, hidden))
            .collect();
        let head_w = choices.iter().map(|&k| block(hidden, k)).collect();
        let head_b = choices.iter().map(|&k| block(1, k)).collect();
        Layout {
            hidden,
            choices,
            lstm_w,
            lstm_b,
            start,
            embedding,
            head_w,
            head_b,
            len: next,
        }
    }

    /// Every block, in a fixed order (the order of the flat vector).
    pub fn blocks(&self) -> Vec<Block> {
        let mut all = vec![self.lstm_w, self.lstm_b, self.start];
        all.extend(&self.embedding);
        all.extend(&self.head_w);
        all.extend(&self.head_b);
        all
    }
}

/// One architecture of an update: its choices and its advantage (reward minus baseline).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    pub actions: Vec<u32>,
    pub advantage: f64,
}

/// The controller's structure and logit shaping; the parameters are passed in.
#[derive(Debug, Clone)]
pub struct Policy {
    pub layout: Layout,
    pub shaping: Shaping,
}

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `log_softmax` of a small vector, stable for large logits.
fn log_softmax64(l: &[f64]) -> Vec<f64> {
    let max = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = max + l.iter().map(|x| (x - max).exp()).sum::<f64>().ln();
    l.iter().map(|x| x - lse).collect()
}

impl Policy {
    pub fn new(layout: Layout, shaping: Shaping) -> Self {
        Policy { layout, shaping }
    }

    /// Fresh parameters, uniform in `[-range, range]` (ENAS: 0.1), from `rng`.
    pub fn init(&self, range: f64, rng: &mut Rng) -> Vec<f32> {
        (0..self.layout.len)
            .map(|_| rng.uniform_in(-range, range) as f32)
            .collect()
    }

    /// Runs the controller step by step; `choose(step, log_probs)` picks each action.
    /// Returns the actions and, per step, the log-probabilities.
    fn walk<P: Copy + Into<f64>>(
        &self,
        p: &[P],
        mut choose: impl FnMut(usize, &[f64]) -> u32,
    ) -> (Vec<u32>, Vec<Vec<f64>>) {
        let l = &self.layout;
        let h_n = l.hidden;
        let w = l.lstm_w.slice(p);
        let b = l.lstm_b.slice(p);
        let mut h = vec![0f64; h_n];
        let mut c = vec![0f64; h_n];
        let mut x: Vec<f64> = l.start.slice(p).iter().map(|&v| v.into()).collect();
        let mut z = vec![0f64; 4 * h_n];
        let mut actions = Vec::with_capacity(l.choices.len());
        let mut logps = Vec::with_capacity(l.choices.len());
        for (d, &k) in l.choices.iter().enumerate() {
            for (j, zj) in z.iter_mut().enumerate() {
                *zj = b[j].into();
            }
            for (r, &xr) in x.iter().chain(h.iter()).enumerate() {
                let row = &w[r * 4 * h_n..(r + 1) * 4 * h_n];
                for (zj, &wj) in z.iter_mut().zip(row) {
                    *zj += xr * wj.into();
                }
            }
            for i in 0..h_n {
                let ig = sigmoid64(z[i]);
                let fg = sigmoid64(z[h_n + i]);
                let gg = z[2 * h_n + i].tanh();
                let og = sigmoid64(z[3 * h_n + i]);
                c[i] = fg * c[i] + ig * gg;
                h[i] = og * c[i].tanh();
            }
            let hw = l.head_w[d].slice(p);
            let hb = l.head_b[d].slice(p);
            let logits: Vec<f64> = (0..k)
                .map(|j| {
                    let raw = hb[j].into()
                        + h.iter()
                            .enumerate()
                            .map(|(i, &hi)| hi * hw[i * k + j].into())
                            .sum::<f64>();
                    self.shaping.apply(raw)
                })
                .collect();
            let logp = log_softmax64(&logits);
            let a = choose(d, &logp);
            if let Some(e) = l.embedding.get(d) {
                let row = &e.slice(p)[a as usize * h_n..(a as usize + 1) * h_n];
                for (xi, &v) in x.iter_mut().zip(row) {
                    *xi = v.into();
                }
            }
            actions.push(a);
            logps.push(logp);
        }
        (actions, logps)
    }

    /// Draws one architecture: one uniform number per decision, inverted through the
    /// cumulative distribution.
    pub fn sample(&self, p: &[f32], rng: &mut Rng) -> Vec<u32> {
        self.walk(p, |_, logp| {
            let u = rng.uniform();
            let mut acc = 0.0;
            for (j, lp) in logp.iter().enumerate() {
                acc += lp.exp();
                if u < acc {
                    return j as u32;
                }
            }
            // Rounding left the total just under `u`.
            (logp.len() - 1) as u32
        })
        .0
    }

    /// The most likely choice at every step given the choices before (greedy decoding).
    pub fn greedy(&self, p: &[f32]) -> Vec<u32> {
        self.walk(p, |_, logp| {
            let mut best = 0;
            for (j, lp) in logp.iter().enumerate() {
                if *lp > logp[best] {
                    best = j;
                }
            }
            best as u32
        })
        .0
    }

    /// Each step's distribution over its choices, with the earlier steps fixed to `actions`.
    pub fn distributions<P: Copy + Into<f64>>(&self, p: &[P], actions: &[u32]) -> Vec<Vec<f64>> {
        self.walk(p, |d, _| actions[d])
            .1
            .into_iter()
            .map(|lp| lp.into_iter().map(f64::exp).collect())
            .collect()
    }

    /// The log-probability of a whole architecture.
    pub fn log_prob<P: Copy + Into<f64>>(&self, p: &[P], actions: &[u32]) -> f64 {
        let (_, logps) = self.walk(p, |d, _| actions[d]);
        logps
            .iter()
            .zip(actions)
            .map(|(lp, &a)| lp[a as usize])
            .sum()
    }

    /// The REINFORCE loss of a batch, in `f64` without burn:
    /// `-mean(advantage * log p(actions)) - entropy_weight * mean(sum of step entropies)`.
    pub fn loss<P: Copy + Into<f64>>(&self, p: &[P], batch: &[Sample], entropy_weight: f64) -> f64 {
        let n = batch.len().max(1) as f64;
        let mut total = 0.0;
        for s in batch {
            let (_, logps) = self.walk(p, |d, _| s.actions[d]);
            let logp: f64 = logps
                .iter()
                .zip(&s.actions)
                .map(|(lp, &a)| lp[a as usize])
                .sum();
            let entropy: f64 = logps
                .iter()
                .map(|lp| -lp.iter().map(|v| v.exp() * v).sum::<f64>())
                .sum();
            total += -s.advantage * logp - entropy_weight * entropy;
        }
        total / n
    }

    /// Builds the parameter leaves on `device`.
    fn leaves(&self, p: &[f32], device: &Device, track: bool) -> Vec<Tensor<2>> {
        self.layout
            .blocks()
            .iter()
            .map(|b| {
                let t = Tensor::<2>::from_data(
                    TensorData::new(b.slice(p).to_vec(), [b.rows, b.cols]),
                    device,
                );
                if track { t.require_grad() } else { t }
            })
            .collect()
    }

    /// The burn forward pass over a batch (teacher-forced on its actions): per step, the
    /// `[batch, choices]` log-probabilities.
    fn burn_forward(
        &self,
        leaves: &[Tensor<2>],
        batch: &[Sample],
        device: &Device,
    ) -> Vec<Tensor<2>> {
        let l = &self.layout;
        let h_n = l.hidden;
        let n = batch.len();
        let d_n = l.choices.len();
        let (w, b, start) = (&leaves[0], &leaves[1], &leaves[2]);
        let embedding = &leaves[3..3 + d_n.saturating_sub(1)];
        let head_w = &leaves[3 + d_n.saturating_sub(1)..3 + d_n.saturating_sub(1) + d_n];
        let head_b = &leaves[3 + d_n.saturating_sub(1) + d_n..];
        let ones = Tensor::<2>::from_data(TensorData::new(vec![1f32; n], [n, 1]), device);
        let one_hot = |d: usize| {
            let k = l.choices[d];
            let mut v = vec![0f32; n * k];
            for (i, s) in batch.iter().enumerate() {
                v[i * k + s.actions[d] as usize] = 1.0;
            }
            Tensor::<2>::from_data(TensorData::new(v, [n, k]), device)
        };
        let mut h = Tensor::<2>::zeros([n, h_n], device);
        let mut c = Tensor::<2>::zeros([n, h_n], device);
        let mut x = ones.clone().matmul(start.clone());
        let mut out = Vec::with_capacity(d_n);
        for d in 0..d_n {
            let z = Tensor::cat(vec![x, h], 1).matmul(w.clone()) + ones.clone().matmul(b.clone());
            let ig = sigmoid(z.clone().narrow(1, 0, h_n));
            let fg = sigmoid(z.clone().narrow(1, h_n, h_n));
            let gg = z.clone().narrow(1, 2 * h_n, h_n).tanh();
            let og = sigmoid(z.narrow(1, 3 * h_n, h_n));
            c = fg * c + ig * gg;
            h = og * c.clone().tanh();
            let mut logits =
                h.clone().matmul(head_w[d].clone()) + ones.clone().matmul(head_b[d].clone());
            logits = logits.div_scalar(self.shaping.temperature as f32);
            if self.shaping.tanh_constant > 0.0 {
                logits = logits.tanh().mul_scalar(self.shaping.tanh_constant as f32);
            }
            out.push(log_softmax(logits, 1));
            x = match embedding.get(d) {
                Some(e) => one_hot(d).matmul(e.clone()),
                None => Tensor::<2>::zeros([n, h_n], device),
            };
        }
        out
    }

    /// Each step's distribution computed by burn (no autodiff); equal to
    /// [`distributions`](Self::distributions) up to `f32` rounding.
    pub fn distributions_burn(&self, p: &[f32], actions: &[u32]) -> Vec<Vec<f64>> {
        let device = Device::flex();
        let leaves = self.leaves(p, &device, false);
        let batch = [Sample {
            actions: actions.to_vec(),
            advantage: 0.0,
        }];
        self.burn_forward(&leaves, &batch, &device)
            .into_iter()
            .map(|lp| {
                lp.exp()
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap_or_default()
                    .into_iter()
                    .map(f64::from)
                    .collect()
            })
            .collect()
    }

    /// The REINFORCE loss of a batch (as [`loss`](Self::loss)) and its gradient with
    /// respect to every parameter, by burn's autodiff on the flex backend. `None` if the
    /// batch is empty or burn returns something unreadable.
    pub fn loss_and_grad(
        &self,
        p: &[f32],
        batch: &[Sample],
        entropy_weight: f64,
    ) -> Option<(f64, Vec<f32>)> {
        if batch.is_empty() {
            return None;
        }
        let device = Device::flex().autodiff();
        let n = batch.len();
        let leaves = self.leaves(p, &device, true);
        let logps = self.burn_forward(&leaves, batch, &device);
        let advantages = Tensor::<2>::from_data(
            TensorData::new(
                batch.iter().map(|s| s.advantage as f32).collect::<Vec<_>>(),
                [n, 1],
            ),
            &device,
        );
        let mut picked = Tensor::<2>::zeros([n, 1], &device);
        let mut entropy = Tensor::<2>::zeros([n, 1], &device);
        for (d, lp) in logps.into_iter().enumerate() {
            let k = self.layout.choices[d];
            let mut v = vec![0f32; n * k];
            for (i, s) in batch.iter().enumerate() {
                v[i * k + s.actions[d] as usize] = 1.0;
            }
            let one_hot = Tensor::<2>::from_data(TensorData::new(v, [n, k]), &device);
            picked = picked + (lp.clone() * one_hot).sum_dim(1);
            entropy = entropy - (lp.clone().exp() * lp).sum_dim(1);
        }
        let loss = (picked * advantages).sum().mul_scalar(-1.0 / n as f32)
            - entropy.sum().mul_scalar(entropy_weight as f32 / n as f32);
        let grads = loss.backward();
        let value = f64::from(loss.into_scalar::<f32>());
        let mut grad = vec![0f32; self.layout.len];
        for (leaf, b) in leaves.iter().zip(self.layout.blocks()) {
            // A block the batch never touched (none here) has no gradient: zero.
            if let Some(g) = leaf.grad(&grads) {
                let g = g.into_data().try_to_vec::<f32>().ok()?;
                grad[b.offset..b.offset + b.len()].copy_from_slice(&g);
            }
        }
        Some((value, grad))
    }
}

/// Adam (Kingma & Ba 2015) on a flat vector, with its state in the checkpoint.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Adam {
    pub m: Vec<f32>,
    pub v: Vec<f32>,
    pub step: u64,
}

impl Adam {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPS: f64 = 1e-8;

    pub fn new(len: usize) -> Self {
        Adam {
            m: vec![0.0; len],
            v: vec![0.0; len],
            step: 0,
        }
    }

    /// One descent step of `lr` along `grad`.
    pub fn step(&mut self, params: &mut [f32], grad: &[f32], lr: f64) {
        self.step += 1;
        let t = self.step as i32;
        let c1 = 1.0 - Self::BETA1.powi(t);
        let c2 = 1.0 - Self::BETA2.powi(t);
        for ((p, &g), (m, v)) in params
            .iter_mut()
            .zip(grad)
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            let g = f64::from(g);
            let mf = Self::BETA1 * f64::from(*m) + (1.0 - Self::BETA1) * g;
            let vf = Self::BETA2 * f64::from(*v) + (1.0 - Self::BETA2) * g * g;
            *m = mf as f32;
            *v = vf as f32;
            let update = lr * (mf / c1) / ((vf / c2).sqrt() + Self::EPS);
            *p = (f64::from(*p) - update) as f32;
        }
    }
}
