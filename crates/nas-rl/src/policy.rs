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
//! JSON and the optimizer is a loop over a slice. Everything is plain Rust in `f64`, one
//! thread, no tensor library: the network is a 6-step, 32-unit LSTM, whose arithmetic is
//! a few hundred thousand multiply-adds, where a tensor library's per-operation dispatch
//! and autodiff graph cost milliseconds (burn's did: 97 % of a tabular search's time).
//!
//! - [`Policy::sample`], [`Policy::greedy`], [`Policy::distributions`], [`Policy::loss`]:
//!   the forward pass;
//! - [`Policy::loss_and_grad`]: the REINFORCE loss and its gradient by backpropagation
//!   through time, written out by hand (the derivation is on `Tape::backward`, in the
//!   source).
//!
//! The tests check the gradient against central finite differences of [`Policy::loss`]
//! for every parameter.

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
            self.tanh_constant * tanh64(y)
        } else {
            y
        }
    }

    /// The derivative of [`apply`](Self::apply) at `x`.
    fn slope(&self, x: f64) -> f64 {
        if self.tanh_constant > 0.0 {
            let t = tanh64(x / self.temperature);
            self.tanh_constant / self.temperature * (1.0 - t * t)
        } else {
            1.0 / self.temperature
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
    fn slice_mut<'a, P>(&self, p: &'a mut [P]) -> &'a mut [P] {
        &mut p[self.offset..self.offset + self.len()]
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

    /// Whether `actions` is one valid choice per decision.
    pub fn fits(&self, actions: &[u32]) -> bool {
        actions.len() == self.choices.len()
            && actions
                .iter()
                .zip(&self.choices)
                .all(|(&a, &k)| (a as usize) < k)
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

/// `tanh` from one `exp` (glibc's `tanh`, through `expm1`, was a sixth of a search's
/// time). Its error is within a few units in the last place of 1, not of the result:
/// below `1e-15` absolute, far under anything the controller can tell apart. Odd, so
/// `e` is at most 1 and nothing overflows.
fn tanh64(x: f64) -> f64 {
    let e = (-2.0 * x.abs()).exp();
    ((1.0 - e) / (1.0 + e)).copysign(x)
}

fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `log_softmax` of a small vector in place, stable for large logits.
fn log_softmax64(l: &mut [f64]) {
    let max = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = max + l.iter().map(|x| (x - max).exp()).sum::<f64>().ln();
    for x in l {
        *x -= lse;
    }
}

/// The entropy of a distribution given by its log-probabilities.
fn entropy64(logp: &[f64]) -> f64 {
    -logp.iter().map(|v| v.exp() * v).sum::<f64>()
}

/// `sum a_i b_i` in four interleaved partial sums: a fixed order, so the same result on
/// every machine, without one long chain of dependent additions (the backward pass's
/// `W dz` was bound by that chain's latency).
fn dot<P: Copy + Into<f64>>(a: &[P], b: &[f64]) -> f64 {
    let mut acc = [0f64; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(&x, &y)| x.into() * y)
        .sum();
    for (x, y) in a4.zip(b4) {
        for k in 0..4 {
            acc[k] += x[k].into() * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// One LSTM step, shared by every forward pass so that they compute the same numbers.
///
/// `input` is `[x, h]` (`2H`: the step's input, then the previous hidden state), or
/// only `x` where `h` is zero (the first step: the rows of `h` would add nothing); `c`
/// holds the previous cell state and receives the new one; `gates` receives the
/// activations of the input, forget, cell and output gates (`4H`), `tanh_c` the tanh of
/// the new cell state and `h` the new hidden state (the backward pass reads all three).
fn lstm_step<P: Copy + Into<f64>>(
    w: &[P],
    b: &[P],
    input: &[f64],
    c: &mut [f64],
    gates: &mut [f64],
    tanh_c: &mut [f64],
    h: &mut [f64],
) {
    let h_n = c.len();
    for (g, &bj) in gates.iter_mut().zip(b) {
        *g = bj.into();
    }
    // Four rows per pass over `gates` (a quarter of the loads and stores of one row per
    // pass); each gate still adds its terms one row after the other, in row order.
    let width = 4 * h_n;
    let rows = w.chunks_exact(4 * width).zip(input.chunks_exact(4));
    let tail_rows = input.len() / 4 * 4;
    for (four, x) in rows {
        let (w0, rest) = four.split_at(width);
        let (w1, rest) = rest.split_at(width);
        let (w2, w3) = rest.split_at(width);
        for j in 0..width {
            let mut g = gates[j];
            g += x[0] * w0[j].into();
            g += x[1] * w1[j].into();
            g += x[2] * w2[j].into();
            g += x[3] * w3[j].into();
            gates[j] = g;
        }
    }
    for (row, &xr) in w[tail_rows * width..]
        .chunks_exact(width)
        .zip(&input[tail_rows..])
    {
        for (g, &wj) in gates.iter_mut().zip(row) {
            *g += xr * wj.into();
        }
    }
    let (i_g, rest) = gates.split_at_mut(h_n);
    let (f_g, rest) = rest.split_at_mut(h_n);
    let (c_g, o_g) = rest.split_at_mut(h_n);
    for i in 0..h_n {
        i_g[i] = sigmoid64(i_g[i]);
        f_g[i] = sigmoid64(f_g[i]);
        c_g[i] = tanh64(c_g[i]);
        o_g[i] = sigmoid64(o_g[i]);
        c[i] = f_g[i] * c[i] + i_g[i] * c_g[i];
        tanh_c[i] = tanh64(c[i]);
        h[i] = o_g[i] * tanh_c[i];
    }
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

    /// Decision `d`'s shaped logits of the hidden state `h`, written into `out`;
    /// `slope`, when given, receives the derivative of each shaped logit with respect to
    /// its raw value.
    fn logits<P: Copy + Into<f64>>(
        &self,
        d: usize,
        p: &[P],
        h: &[f64],
        out: &mut [f64],
        mut slope: Option<&mut [f64]>,
    ) {
        let l = &self.layout;
        let k = l.choices[d];
        let hw = l.head_w[d].slice(p);
        let hb = l.head_b[d].slice(p);
        for (j, o) in out.iter_mut().enumerate() {
            let raw = hb[j].into()
                + h.iter()
                    .enumerate()
                    .map(|(i, &hi)| hi * hw[i * k + j].into())
                    .sum::<f64>();
            if let Some(s) = slope.as_deref_mut() {
                s[j] = self.shaping.slope(raw);
            }
            *o = self.shaping.apply(raw);
        }
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
        let (w, b) = (l.lstm_w.slice(p), l.lstm_b.slice(p));
        // `[x, h]`: the step's input, then the previous hidden state.
        let mut input = vec![0f64; 2 * h_n];
        for (xi, &v) in input.iter_mut().zip(l.start.slice(p)) {
            *xi = v.into();
        }
        let mut c = vec![0f64; h_n];
        let mut h = vec![0f64; h_n];
        let mut gates = vec![0f64; 4 * h_n];
        let mut tanh_c = vec![0f64; h_n];
        let mut actions = Vec::with_capacity(l.choices.len());
        let mut logps = Vec::with_capacity(l.choices.len());
        for (d, &k) in l.choices.iter().enumerate() {
            let live = if d == 0 { &input[..h_n] } else { &input[..] };
            lstm_step(w, b, live, &mut c, &mut gates, &mut tanh_c, &mut h);
            let mut logp = vec![0f64; k];
            self.logits(d, p, &h, &mut logp, None);
            log_softmax64(&mut logp);
            let a = choose(d, &logp);
            let (x, h_prev) = input.split_at_mut(h_n);
            h_prev.copy_from_slice(&h);
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

    /// The REINFORCE loss of a batch, in `f64`:
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
            let entropy: f64 = logps.iter().map(|lp| entropy64(lp)).sum();
            total += -s.advantage * logp - entropy_weight * entropy;
        }
        total / n
    }

    /// The REINFORCE loss of a batch (as [`loss`](Self::loss)) and its gradient with
    /// respect to every parameter, by backpropagation through time (see `Tape::backward`
    /// in the source). Accumulated in `f64` over the samples in order, so the result is
    /// the same on every machine. `None` if the batch is empty, `p` is not
    /// [`Layout::len`] long or a sample's actions do not fit the layout (the strategy
    /// never builds such a batch; a wrong one is refused rather than read out of bounds).
    pub fn loss_and_grad<P: Copy + Into<f64>>(
        &self,
        p: &[P],
        batch: &[Sample],
        entropy_weight: f64,
    ) -> Option<(f64, Vec<f32>)> {
        let l = &self.layout;
        if batch.is_empty() || p.len() != l.len || !batch.iter().all(|s| l.fits(&s.actions)) {
            return None;
        }
        let n = batch.len() as f64;
        let mut tape = Tape::new(l);
        let mut grad = vec![0f64; l.len];
        let mut total = 0.0;
        for s in batch {
            let (logp, entropy) = tape.forward(self, p, &s.actions);
            total += -s.advantage * logp - entropy_weight * entropy;
            tape.backward(
                self,
                p,
                &s.actions,
                s.advantage / n,
                entropy_weight / n,
                &mut grad,
            );
        }
        Some((total / n, grad.into_iter().map(|g| g as f32).collect()))
    }
}

/// One sample's forward pass as the backward pass reads it, and the backward pass's
/// scratch vectors: sized once per [`Policy::loss_and_grad`] and reused for every sample,
/// so the steps allocate nothing.
struct Tape {
    hidden: usize,
    /// Per step, `8H` values: the LSTM input `[x, h_prev]` (`2H`), the previous cell
    /// state (`H`), the four gate activations (`4H`) and `tanh(c)` of the new cell state.
    steps: Vec<f64>,
    /// Per step from `offsets[d]`, one per choice: the log-probabilities...
    logp: Vec<f64>,
    /// ...and the derivative of each shaped logit with respect to its raw value.
    slope: Vec<f64>,
    /// Per step: the distribution's entropy.
    entropy: Vec<f64>,
    offsets: Vec<usize>,
    /// The running cell and hidden state of the forward pass.
    c: Vec<f64>,
    h: Vec<f64>,
    /// The backward pass's gradients: with respect to `h` and `c` (carried to the step
    /// before), every step's gate pre-activations (`4H` each), the LSTM input and one
    /// decision's raw logits.
    dh: Vec<f64>,
    dc: Vec<f64>,
    dz: Vec<f64>,
    d_input: Vec<f64>,
    d_raw: Vec<f64>,
}

impl Tape {
    fn new(l: &Layout) -> Self {
        let h_n = l.hidden;
        let mut offsets = Vec::with_capacity(l.choices.len());
        let mut total = 0;
        for &k in &l.choices {
            offsets.push(total);
            total += k;
        }
        let widest = l.choices.iter().copied().max().unwrap_or(0);
        Tape {
            hidden: h_n,
            steps: vec![0.0; l.choices.len() * 8 * h_n],
            logp: vec![0.0; total],
            slope: vec![0.0; total],
            entropy: vec![0.0; l.choices.len()],
            offsets,
            c: vec![0.0; h_n],
            h: vec![0.0; h_n],
            dh: vec![0.0; h_n],
            dc: vec![0.0; h_n],
            dz: vec![0.0; l.choices.len() * 4 * h_n],
            d_input: vec![0.0; 2 * h_n],
            d_raw: vec![0.0; widest],
        }
    }

    /// Step `d`'s record, split as `(input, c_prev, gates, tanh_c)`.
    fn step(steps: &mut [f64], h_n: usize, d: usize) -> StepMut<'_> {
        let s = &mut steps[d * 8 * h_n..(d + 1) * 8 * h_n];
        let (input, rest) = s.split_at_mut(2 * h_n);
        let (c_prev, rest) = rest.split_at_mut(h_n);
        let (gates, tanh_c) = rest.split_at_mut(4 * h_n);
        (input, c_prev, gates, tanh_c)
    }

    /// The forward pass teacher-forced on `actions` (which fit the layout), recorded.
    /// Returns the log-probability of the actions and the sum of the step entropies, in
    /// the order [`Policy::loss`] sums them.
    fn forward<P: Copy + Into<f64>>(
        &mut self,
        policy: &Policy,
        p: &[P],
        actions: &[u32],
    ) -> (f64, f64) {
        let l = &policy.layout;
        let h_n = self.hidden;
        let (w, b) = (l.lstm_w.slice(p), l.lstm_b.slice(p));
        self.c.fill(0.0);
        self.h.fill(0.0);
        let (mut logp_sum, mut entropy_sum) = (0.0, 0.0);
        for (d, &k) in l.choices.iter().enumerate() {
            let (input, c_prev, gates, tanh_c) = Self::step(&mut self.steps, h_n, d);
            let x = match d.checked_sub(1) {
                None => l.start.slice(p),
                Some(prev) => {
                    let a = actions[prev] as usize;
                    &l.embedding[prev].slice(p)[a * h_n..(a + 1) * h_n]
                }
            };
            for (xi, &v) in input.iter_mut().zip(x) {
                *xi = v.into();
            }
            input[h_n..].copy_from_slice(&self.h);
            c_prev.copy_from_slice(&self.c);
            let live = if d == 0 { &input[..h_n] } else { &input[..] };
            lstm_step(w, b, live, &mut self.c, gates, tanh_c, &mut self.h);
            let range = self.offsets[d]..self.offsets[d] + k;
            let logp = &mut self.logp[range.clone()];
            policy.logits(d, p, &self.h, logp, Some(&mut self.slope[range]));
            log_softmax64(logp);
            self.entropy[d] = entropy64(logp);
            logp_sum += logp[actions[d] as usize];
            entropy_sum += self.entropy[d];
        }
        (logp_sum, entropy_sum)
    }

    /// Adds to `grad` the gradient of one sample's share of the loss,
    /// `-(A log p(a) + beta H) / n`, given `advantage = A / n` and `entropy = beta / n`,
    /// from the recorded [`forward`](Self::forward) pass of the same `actions`.
    ///
    /// With `l` a step's shaped logits, `q = softmax(l)` and `H = -sum q log q`:
    /// `d log q_a / d l_j = [j = a] - q_j` and `d H / d l_j = -q_j (log q_j + H)`. The
    /// shaping multiplies by its slope; the heads are linear. Back through the LSTM with
    /// `c = f c_prev + i g` and `h = o tanh(c)`: `dc += dh o (1 - tanh(c)^2)`, then the
    /// gates' pre-activations get `dh tanh(c) o (1 - o)`, `dc g i (1 - i)`,
    /// `dc c_prev f (1 - f)` and `dc i (1 - g^2)`; `dc f` goes to the step before, and
    /// so does the `h` part of `W dz`, whose `x` part goes to the start token or to the
    /// embedding row of the action taken one step earlier.
    fn backward<P: Copy + Into<f64>>(
        &mut self,
        policy: &Policy,
        p: &[P],
        actions: &[u32],
        advantage: f64,
        entropy: f64,
        grad: &mut [f64],
    ) {
        let l = &policy.layout;
        let h_n = self.hidden;
        let w = l.lstm_w.slice(p);
        self.dh.fill(0.0);
        self.dc.fill(0.0);
        for (d, &k) in l.choices.iter().enumerate().rev() {
            let a = actions[d] as usize;
            let off = self.offsets[d];
            let d_raw = &mut self.d_raw[..k];
            for (j, dr) in d_raw.iter_mut().enumerate() {
                let lp = self.logp[off + j];
                let q = lp.exp();
                let hit = if j == a { 1.0 } else { 0.0 };
                *dr = (-advantage * (hit - q) + entropy * q * (lp + self.entropy[d]))
                    * self.slope[off + j];
            }
            let (_, c_prev, gates, tanh_c) = Self::step(&mut self.steps, h_n, d);
            Self::head_backward(l, d, p, gates, tanh_c, d_raw, &mut self.dh, grad);
            let dz = &mut self.dz[d * 4 * h_n..(d + 1) * 4 * h_n];
            Self::lstm_backward((c_prev, gates, tanh_c), &mut self.dh, &mut self.dc, dz);
            for (gb, &dz) in l.lstm_b.slice_mut(grad).iter_mut().zip(&*dz) {
                *gb += dz;
            }
            // At step 0 the previous hidden state is zero: nothing flows further back.
            let rows = if d == 0 { h_n } else { 2 * h_n };
            for (r, row) in w.chunks_exact(4 * h_n).take(rows).enumerate() {
                self.d_input[r] = dot(row, dz);
            }
            let x_at = match d.checked_sub(1) {
                None => l.start.offset,
                Some(prev) => l.embedding[prev].offset + actions[prev] as usize * h_n,
            };
            for (g, &dx) in grad[x_at..x_at + h_n].iter_mut().zip(&self.d_input) {
                *g += dx;
            }
            self.dh.copy_from_slice(&self.d_input[h_n..]);
        }
        self.lstm_w_backward(l, grad);
    }

    /// `W`'s gradient, `sum over steps of [x, h_prev] outer dz`, once the backward pass
    /// has every step's `dz`: row by row, so that a row of the gradient is read and
    /// written once, not once per step.
    fn lstm_w_backward(&self, l: &Layout, grad: &mut [f64]) {
        let h_n = self.hidden;
        let gw = l.lstm_w.slice_mut(grad);
        for (r, g_row) in gw.chunks_exact_mut(4 * h_n).enumerate() {
            for (d, dz) in self.dz.chunks_exact(4 * h_n).enumerate() {
                // At step 0 the previous hidden state is zero: its rows get nothing.
                if d == 0 && r >= h_n {
                    continue;
                }
                let xr = self.steps[d * 8 * h_n + r];
                for (g, &dz) in g_row.iter_mut().zip(dz) {
                    *g += xr * dz;
                }
            }
        }
    }

    /// The head of decision `d`: adds its weights' gradients to `grad` and `W_head d_raw`
    /// to `dh`.
    #[allow(clippy::too_many_arguments)] // The pieces of one step's record.
    fn head_backward<P: Copy + Into<f64>>(
        l: &Layout,
        d: usize,
        p: &[P],
        gates: &[f64],
        tanh_c: &[f64],
        d_raw: &[f64],
        dh: &mut [f64],
        grad: &mut [f64],
    ) {
        let h_n = l.hidden;
        let k = d_raw.len();
        for (g, &dr) in l.head_b[d].slice_mut(grad).iter_mut().zip(d_raw) {
            *g += dr;
        }
        let hw = l.head_w[d].slice(p);
        let ghw = l.head_w[d].slice_mut(grad);
        for i in 0..h_n {
            let h = gates[3 * h_n + i] * tanh_c[i];
            let mut acc = 0.0;
            for j in 0..k {
                ghw[i * k + j] += h * d_raw[j];
                acc += hw[i * k + j].into() * d_raw[j];
            }
            dh[i] += acc;
        }
    }

    /// One LSTM step backwards: from `dh` and `dc` (with respect to the step's new hidden
    /// and cell state) to `dz` (its gate pre-activations); `dc` becomes the gradient with
    /// respect to the previous cell state.
    fn lstm_backward(
        (c_prev, gates, tanh_c): (&[f64], &[f64], &[f64]),
        dh: &mut [f64],
        dc: &mut [f64],
        dz: &mut [f64],
    ) {
        let h_n = dh.len();
        for i in 0..h_n {
            let (ig, fg, gg, og) = (
                gates[i],
                gates[h_n + i],
                gates[2 * h_n + i],
                gates[3 * h_n + i],
            );
            let tc = tanh_c[i];
            let dci = dc[i] + dh[i] * og * (1.0 - tc * tc);
            dz[i] = dci * gg * ig * (1.0 - ig);
            dz[h_n + i] = dci * c_prev[i] * fg * (1.0 - fg);
            dz[2 * h_n + i] = dci * ig * (1.0 - gg * gg);
            dz[3 * h_n + i] = dh[i] * tc * og * (1.0 - og);
            dc[i] = dci * fg;
        }
    }
}

/// One step's record in a [`Tape`]: `(input, c_prev, gates, tanh_c)`.
type StepMut<'a> = (&'a mut [f64], &'a mut [f64], &'a mut [f64], &'a mut [f64]);

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
    ///
    /// In `f32`, the precision the weights and moments are stored in: the moments round to
    /// it anyway, and an update's own rounding (`1e-7` of a step of about `lr`) is far
    /// under a weight's last place. `f64` square roots and divisions, two to a vector
    /// register, made this loop a fifth of a search's time.
    pub fn step(&mut self, params: &mut [f32], grad: &[f32], lr: f64) {
        self.step += 1;
        let t = i32::try_from(self.step).unwrap_or(i32::MAX);
        // The bias corrections folded into two factors: one division per weight, not three.
        let rate = (lr / (1.0 - Self::BETA1.powi(t))) as f32;
        let inv_c2 = (1.0 / (1.0 - Self::BETA2.powi(t))) as f32;
        let (b1, b2, eps) = (Self::BETA1 as f32, Self::BETA2 as f32, Self::EPS as f32);
        let (a1, a2) = ((1.0 - Self::BETA1) as f32, (1.0 - Self::BETA2) as f32);
        // Equal lengths up front, so that the loop has no bounds checks and vectorizes.
        let n = params
            .len()
            .min(grad.len())
            .min(self.m.len())
            .min(self.v.len());
        let (params, grad) = (&mut params[..n], &grad[..n]);
        let (m, v) = (&mut self.m[..n], &mut self.v[..n]);
        for i in 0..n {
            let g = grad[i];
            m[i] = b1 * m[i] + a1 * g;
            v[i] = b2 * v[i] + a2 * g * g;
            params[i] -= rate * m[i] / ((v[i] * inv_c2).sqrt() + eps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tanh64;

    /// Within `1e-15` of the library's `tanh` everywhere (absolute: near 0 the formula
    /// loses relative precision, which nothing downstream can see), odd, exact at the
    /// ends and through zero, infinities and NaN.
    #[test]
    fn tanh64_is_tanh() {
        let mut x = -40.0;
        while x <= 40.0 {
            let (ours, std) = (tanh64(x), x.tanh());
            assert!((ours - std).abs() <= 1e-15, "tanh({x}): {ours} vs {std}");
            assert_eq!(tanh64(-x), -ours, "odd at {x}");
            x += 0.001_3;
        }
        for tiny in [1e-300, 1e-12, 1e-8] {
            assert!((tanh64(tiny) - tiny).abs() <= 1e-15, "{tiny}");
        }
        assert_eq!(tanh64(0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(tanh64(-0.0).to_bits(), (-0.0f64).to_bits());
        assert_eq!(tanh64(400.0), 1.0);
        assert_eq!(tanh64(f64::NEG_INFINITY), -1.0);
        assert!(tanh64(f64::NAN).is_nan());
    }
}
