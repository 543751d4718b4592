//! The searched recurrent cell on burn, unrolled over a sentence inside a [`TextFrame`]
//! (see [`crate::rnn_cell`] for the cell's equations; [`crate::rnn_cell_cost`] counts
//! what [`RnnCellNet::trainable_params`] returns).
//!
//! Node 0's map of `[x_t, h_{t-1}]` is split into the input's part, applied to the whole
//! sentence in one matrix product before the loop, and the hidden state's part, applied
//! per step: the same product, with one large multiplication instead of one per word.
//!
//! Every position of the sentence runs the cell, padding included; the padding comes
//! after the last word, so it changes no state at a word, and the head reads the words'
//! states only ([`TextFrame::classify`]).

use super::text_frame::{TextFrame, seeded};
use crate::rnn_cell::{CellActivation, RnnCellArch};
use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::{relu, sigmoid, tanh};
use burn::tensor::{Device, Tensor};

/// A text classifier around an [`RnnCellArch`].
#[derive(Module, Debug)]
pub struct RnnCellNet {
    pub text: TextFrame,
    /// Node 0's map of the input `x_t` to `[c, h]`, `[hidden, 2 hidden]`, no bias.
    pub input_map: Linear,
    /// Node 0's map of `h_{t-1}` to `[c, h]`, `[hidden, 2 hidden]`, no bias.
    pub hidden_map: Linear,
    /// Node `k`'s map of its input node to `[c, h]` (`nodes[k - 1]`), no bias.
    pub nodes: Vec<Linear>,
    #[module(skip)]
    arch: RnnCellArch,
    #[module(skip)]
    loose_ends: Vec<usize>,
}

impl RnnCellNet {
    /// Builds `arch` with `hidden` dimensions (embedding and state) for `vocabulary` word
    /// ids and `classes` outputs on `device`, its weights drawn from `seed` alone.
    pub fn new(
        arch: &RnnCellArch,
        hidden: usize,
        vocabulary: usize,
        classes: usize,
        device: &Device,
        seed: u64,
    ) -> Self {
        let map = || gate_map(hidden, device);
        let net = RnnCellNet {
            text: TextFrame::new(vocabulary, hidden, classes, device),
            input_map: map(),
            hidden_map: map(),
            nodes: arch.nodes.iter().map(|_| map()).collect(),
            arch: arch.clone(),
            loose_ends: arch.loose_ends(),
        };
        seeded(net, seed, |n| &mut n.text)
    }

    pub fn arch(&self) -> &RnnCellArch {
        &self.arch
    }

    /// Trainable parameters: embedding, the cell's maps, the classifier.
    pub fn trainable_params(&self) -> usize {
        self.num_params()
    }

    /// One step of the cell: the new hidden state from `h` and the input's share of node
    /// 0's gate, `x_share` (`x_t` through [`input_map`](Self::input_map)).
    pub fn step(&self, x_share: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        let first = highway(
            h.clone(),
            x_share + self.hidden_map.forward(h),
            CellActivation::Tanh,
        );
        let mut states = Vec::with_capacity(self.nodes.len() + 1);
        states.push(first);
        for (node, map) in self.arch.nodes.iter().zip(&self.nodes) {
            let input = states[node.input].clone();
            let gates = map.forward(input.clone());
            states.push(highway(input, gates, node.activation));
        }
        let ends: Vec<Tensor<2>> = self.loose_ends.iter().map(|&k| states[k].clone()).collect();
        let count = ends.len() as f32;
        let sum = ends
            .into_iter()
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| states[0].clone());
        sum / count.max(1.0)
    }

    /// Logits of a batch of sentences, `[batch, 1, 1, max_words]` word ids.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        unroll(&self.text, &self.input_map, x, |share, h| {
            self.step(share, h)
        })
    }
}

/// Runs a cell over a batch of sentences (`x`, word ids) inside `frame`: the input's share
/// of node 0's gate for every word in one product (`input_map`), then `step(share, h)` per
/// word from a zero state, the head reading the mean state over the words.
pub(crate) fn unroll(
    frame: &TextFrame,
    input_map: &Linear,
    x: Tensor<4>,
    mut step: impl FnMut(Tensor<2>, Tensor<2>) -> Tensor<2>,
) -> Tensor<2> {
    let embedded = frame.embed(x);
    let [batch, words, hidden] = embedded.words.dims();
    let shares = input_map.forward(embedded.words);
    let mut h = Tensor::<2>::zeros([batch, hidden], &shares.device());
    let mut states = Vec::with_capacity(words);
    for t in 0..words {
        let share: Tensor<2> = shares.clone().narrow(1, t, 1).reshape([batch, 2 * hidden]);
        h = step(share, h);
        states.push(h.clone());
    }
    frame.classify(Tensor::stack(states, 1), embedded.mask)
}

/// The mean of `states`; `None` for none.
pub(crate) fn mean(states: Vec<Tensor<2>>) -> Option<Tensor<2>> {
    let count = states.len() as f32;
    states.into_iter().reduce(|a, b| a + b).map(|s| s / count)
}

/// DARTS's highway gate: `[c, h] = gates`, `prev + sigmoid(c) * (f(h) - prev)`.
pub(crate) fn highway(prev: Tensor<2>, gates: Tensor<2>, f: CellActivation) -> Tensor<2> {
    highway_with(prev, gates, |h| activate(h, f))
}

/// The highway gate with any candidate: `[c, h] = gates`,
/// `prev + sigmoid(c) * (candidate(h) - prev)`.
pub(crate) fn highway_with(
    prev: Tensor<2>,
    gates: Tensor<2>,
    candidate: impl FnOnce(Tensor<2>) -> Tensor<2>,
) -> Tensor<2> {
    let [_, two_hidden] = gates.dims();
    let hidden = two_hidden / 2;
    let c = sigmoid(gates.clone().narrow(1, 0, hidden));
    let h = candidate(gates.narrow(1, hidden, hidden));
    prev.clone() + c * (h - prev)
}

/// `f` applied elementwise.
pub(crate) fn activate(h: Tensor<2>, f: CellActivation) -> Tensor<2> {
    match f {
        CellActivation::Tanh => tanh(h),
        CellActivation::Relu => relu(h),
        CellActivation::Sigmoid => sigmoid(h),
        CellActivation::Identity => h,
    }
}

/// A map of `hidden` values to a gate and a candidate (`2 hidden`), no bias, zero until
/// the network's weights are drawn.
pub(crate) fn gate_map(hidden: usize, device: &Device) -> Linear {
    LinearConfig::new(hidden, 2 * hidden)
        .with_bias(false)
        .with_initializer(Initializer::Zeros)
        .init(device)
}
