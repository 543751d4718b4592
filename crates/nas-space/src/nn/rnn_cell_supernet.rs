//! The `rnn-cell` space's weight-sharing supernet, for ENAS and for DARTS and GDAS: one
//! map of `H` to `[c, h]` (`2H`) for every edge `j -> k` a cell can have (node `k` reading
//! the earlier node `j`), shared by every cell that has the edge, as ENAS shares them.
//! Activations have no weights, so an edge's map serves every activation.
//!
//! - A child cell ([`RnnCellSupernet::forward`], ENAS) runs its own edges, as
//!   [`RnnCellNet`](super::RnnCellNet) runs its maps: the hidden state is the mean of the
//!   loose ends.
//! - Mixed ([`RnnCellSupernet::forward_mixed`], DARTS): architecture weights have a row
//!   per edge (rows ordered by node, then input: `k (k - 1) / 2 + j`) and a column per
//!   activation of the space. Each edge runs the highway gate with the row's mixture of
//!   activations, `Σ_a w_a f_a(h)`, which equals the mixture of the gates because a row
//!   sums to one; node `k` is the mean of its `k` incoming edges (DARTS sums them and
//!   normalizes with batch norm; the mean keeps the scale without statistics), and the
//!   hidden state is the mean of nodes `1..=N`, as in DARTS's search cell.
//! - Sampled (GDAS): each edge runs one activation, scaled by its weight, the row's other
//!   weights added as scalars.
//!
//! The derived cell takes for each node the input whose row holds the largest weight and
//! that row's strongest activation (DARTS's recurrent derivation, one input a node).

use super::rnn_cell_net::{activate, gate_map, highway, highway_with, mean, unroll};
use super::text_frame::{TextFrame, seeded};
use crate::rnn_cell::{CellActivation, RnnCellArch};
use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

/// The row of edge `j -> k` (`1 <= k`, `j < k`).
pub fn edge_row(k: usize, j: usize) -> usize {
    k * (k - 1) / 2 + j
}

/// Every edge of cells of `nodes` nodes.
pub fn edge_count(nodes: usize) -> usize {
    nodes * (nodes + 1) / 2
}

/// The shared weights of every cell of `nodes` nodes.
#[derive(Module, Debug)]
pub struct RnnCellSupernet {
    pub text: TextFrame,
    pub input_map: Linear,
    pub hidden_map: Linear,
    /// Edge `j -> k`'s map at [`edge_row`]`(k, j)`.
    pub edges: Vec<Linear>,
    #[module(skip)]
    nodes: usize,
    /// The space's activations: the columns of mixing weights.
    #[module(skip)]
    activations: Vec<CellActivation>,
}

impl RnnCellSupernet {
    /// The supernet of cells of `nodes` nodes choosing among `activations`, `hidden`
    /// dimensions, for `vocabulary` word ids and `classes` outputs; weights from `seed`.
    pub fn new(
        nodes: usize,
        activations: &[CellActivation],
        hidden: usize,
        [vocabulary, classes]: [usize; 2],
        device: &Device,
        seed: u64,
    ) -> Self {
        let map = || gate_map(hidden, device);
        let net = RnnCellSupernet {
            text: TextFrame::new(vocabulary, hidden, classes, device),
            input_map: map(),
            hidden_map: map(),
            edges: (0..edge_count(nodes)).map(|_| map()).collect(),
            nodes,
            activations: activations.to_vec(),
        };
        seeded(net, seed, |n| &mut n.text)
    }

    pub fn trainable_params(&self) -> usize {
        self.num_params()
    }

    pub fn activations(&self) -> &[CellActivation] {
        &self.activations
    }

    /// Logits of the child cell `arch` (ENAS).
    pub fn forward(&self, x: Tensor<4>, arch: &RnnCellArch) -> Tensor<2> {
        let ends = arch.loose_ends();
        unroll(&self.text, &self.input_map, x, |share, h| {
            let mut states = vec![self.first(share, h)];
            for (i, node) in arch.nodes.iter().enumerate() {
                let input = states[node.input].clone();
                let gates = self.edges[edge_row(i + 1, node.input)].forward(input.clone());
                states.push(highway(input, gates, node.activation));
            }
            let ends = ends.iter().map(|&k| states[k].clone()).collect();
            mean(ends).unwrap_or_else(|| states[0].clone())
        })
    }

    /// Logits with every edge and activation mixed by `weights`, `[edges, activations]`.
    pub fn forward_mixed(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<2> {
        self.run_mixed(x, weights, None)
    }

    /// Logits with activation `choices[row]` on each edge (GDAS).
    pub fn forward_sampled(
        &self,
        x: Tensor<4>,
        weights: &Tensor<2>,
        choices: &[usize],
    ) -> Tensor<2> {
        self.run_mixed(x, weights, Some(choices))
    }

    /// Node 0: `x_t`'s share and `h_{t-1}` through the tanh highway gate.
    fn first(&self, share: Tensor<2>, h: Tensor<2>) -> Tensor<2> {
        highway(
            h.clone(),
            share + self.hidden_map.forward(h),
            CellActivation::Tanh,
        )
    }

    /// Every node the mean of its incoming edges, each edge's activations mixed (or one
    /// `sampled`); the state the mean of nodes `1..=N`.
    fn run_mixed(&self, x: Tensor<4>, weights: &Tensor<2>, sampled: Option<&[usize]>) -> Tensor<2> {
        unroll(&self.text, &self.input_map, x, |share, h| {
            let mut states = vec![self.first(share, h)];
            for k in 1..=self.nodes {
                let incoming = (0..k)
                    .map(|j| {
                        let row = edge_row(k, j);
                        let gates = self.edges[row].forward(states[j].clone());
                        self.mixed_gate(states[j].clone(), gates, row, weights, sampled)
                    })
                    .collect();
                let node = mean(incoming).unwrap_or_else(|| states[0].clone());
                states.push(node);
            }
            mean(states.split_off(1)).unwrap_or_else(|| states[0].clone())
        })
    }

    /// The highway gate of edge `row` with its activations mixed by the row's weights,
    /// or (`sampled`) one activation run and the row's other weights added as scalars.
    fn mixed_gate(
        &self,
        prev: Tensor<2>,
        gates: Tensor<2>,
        row: usize,
        weights: &Tensor<2>,
        sampled: Option<&[usize]>,
    ) -> Tensor<2> {
        let weight = |a: usize| weights.clone().narrow(0, row, 1).narrow(1, a, 1);
        let activations = &self.activations;
        highway_with(prev, gates, |h| match sampled {
            None => activations
                .iter()
                .enumerate()
                .map(|(a, f)| activate(h.clone(), *f) * weight(a))
                .reduce(|x, y| x + y)
                .unwrap_or(h),
            Some(choices) => {
                let chosen = choices[row].min(activations.len() - 1);
                (0..activations.len())
                    .filter(|&a| a != chosen)
                    .map(weight)
                    .fold(activate(h, activations[chosen]) * weight(chosen), |x, w| {
                        x + w
                    })
            }
        })
    }
}
