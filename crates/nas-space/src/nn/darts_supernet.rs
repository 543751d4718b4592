//! The relaxed DARTS supernet (the original `model_search.Network`): every cell holds
//! every earlier node's edge into each intermediate node (14 edges), each edge every op of
//! [`PRIMITIVES`], mixed by architecture weights. Batch norms are affine-free inside the
//! cells, a pool is followed by one, as in the original code; the stem's is affine.
//!
//! The architecture weights are `[28, 8]`: rows 0..14 the normal cell's edges, rows
//! 14..28 the reduction cell's, each cell's edges node by node (node 2 from 0 and 1, node
//! 3 from 0, 1 and 2, ...), columns in [`PRIMITIVES`] order.

use super::darts_net::{CellStack, StackedCell};
use super::darts_ops::{
    FactorizedReduce, Norm, Pool3x3, Preprocess, ReluConv1x1Bn, ReluDwPwBn, SepConv, dil_conv,
};
use crate::darts::{PRIMITIVES, SEARCH_EDGES, STEPS};
use crate::darts_cost::{CellShape, DartsNetConfig};
use burn::module::Module;
use burn::tensor::{Device, Tensor};

/// Candidate ops per edge.
pub const CANDIDATES: usize = PRIMITIVES.len();

/// One edge with every op.
#[derive(Module, Debug)]
pub struct MixedOp {
    max_pool: Pool3x3,
    max_pool_norm: Norm,
    avg_pool: Pool3x3,
    avg_pool_norm: Norm,
    /// `skip_connect` at stride 2; at stride 1 it is the identity.
    skip_reduce: Option<FactorizedReduce>,
    sep_3x3: SepConv,
    sep_5x5: SepConv,
    dil_3x3: ReluDwPwBn,
    dil_5x5: ReluDwPwBn,
}

impl MixedOp {
    fn new(c: usize, stride: usize, d: &Device) -> Self {
        MixedOp {
            max_pool: Pool3x3::max(stride),
            max_pool_norm: Norm::new(c, false, d),
            avg_pool: Pool3x3::average(stride),
            avg_pool_norm: Norm::new(c, false, d),
            skip_reduce: (stride == 2).then(|| FactorizedReduce::new(c, c, false, d)),
            sep_3x3: SepConv::new(c, 3, stride, false, d),
            sep_5x5: SepConv::new(c, 5, stride, false, d),
            dil_3x3: dil_conv(c, 3, stride, false, d),
            dil_5x5: dil_conv(c, 5, stride, false, d),
        }
    }

    /// The output of op `k` (its [`PRIMITIVES`] index); `None` for `none`, whose zero
    /// adds nothing.
    fn op(&self, x: Tensor<4>, k: usize) -> Option<Tensor<4>> {
        Some(match k {
            1 => self.max_pool_norm.forward(self.max_pool.forward(x)),
            2 => self.avg_pool_norm.forward(self.avg_pool.forward(x)),
            3 => match &self.skip_reduce {
                Some(r) => r.forward(x),
                None => x,
            },
            4 => self.sep_3x3.forward(x),
            5 => self.sep_5x5.forward(x),
            6 => self.dil_3x3.forward(x),
            7 => self.dil_5x5.forward(x),
            _ => return None,
        })
    }

    /// `Σ_k w_k · op_k(x)` over the row `w` (`[1, 8]`).
    fn forward_mixed(&self, x: Tensor<4>, w: Tensor<2>) -> Tensor<4> {
        (1..CANDIDATES)
            .filter_map(|k| {
                let weight = w.clone().slice([0..1, k..k + 1]).reshape([1, 1, 1, 1]);
                self.op(x.clone(), k).map(|y| y * weight)
            })
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| x.zeros_like())
    }

    /// GDAS's sampled edge: only op `k` runs, scaled by its weight; the row's other
    /// weights are added as scalars, so the gradient reaches all of them (see
    /// [`nas_nn::RelaxedSupernet::forward_sampled`]). A sampled `none` is zero at the
    /// edge's output size.
    fn forward_sampled(&self, x: Tensor<4>, w: Tensor<2>, k: usize) -> Tensor<4> {
        let weight = |j: usize| w.clone().slice([0..1, j..j + 1]).reshape([1, 1, 1, 1]);
        let chosen = match self.op(x.clone(), k) {
            Some(y) => y * weight(k),
            None => {
                let stride = if self.skip_reduce.is_some() { 2 } else { 1 };
                let [b, c, h, w] = x.dims();
                let size = [b, c, (h - 1) / stride + 1, (w - 1) / stride + 1];
                Tensor::zeros(size, &x.device())
            }
        };
        (0..CANDIDATES)
            .filter(|&j| j != k)
            .map(weight)
            .fold(chosen, |acc, o| acc + o)
    }

    fn trainable_params(&self) -> usize {
        self.skip_reduce
            .as_ref()
            .map_or(0, FactorizedReduce::trainable_params)
            + self.sep_3x3.trainable_params()
            + self.sep_5x5.trainable_params()
            + self.dil_3x3.trainable_params()
            + self.dil_5x5.trainable_params()
    }
}

/// A search cell at its place in the network.
#[derive(Module, Debug)]
pub struct MixedCell {
    preprocess_0: Preprocess,
    preprocess_1: ReluConv1x1Bn,
    edges: Vec<MixedOp>,
    reduction: bool,
}

impl MixedCell {
    fn new(shape: &CellShape, d: &Device) -> Self {
        let c = shape.channels;
        let edges = (0..STEPS)
            .flat_map(|i| 0..i + 2)
            .map(|from| MixedOp::new(c, shape.stride(from), d))
            .collect();
        MixedCell {
            preprocess_0: Preprocess::new(shape.c_prev_prev, c, shape.reduction_prev, false, d),
            preprocess_1: ReluConv1x1Bn::new(shape.c_prev, c, false, d),
            edges,
            reduction: shape.reduction,
        }
    }

    /// The cell's output, each edge `e` computed by `edge(e, input)`: node `2 + i` sums
    /// its edges from every earlier node; the output concatenates nodes 2..=5.
    fn run(
        &self,
        s0: Tensor<4>,
        s1: Tensor<4>,
        edge: impl Fn(usize, &MixedOp, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<4> {
        let mut states = vec![self.preprocess_0.forward(s0), self.preprocess_1.forward(s1)];
        let mut offset = 0;
        for _ in 0..STEPS {
            let node = states
                .iter()
                .enumerate()
                .map(|(j, h)| edge(offset + j, &self.edges[offset + j], h.clone()))
                .reduce(|a, b| a + b);
            offset += states.len();
            if let Some(node) = node {
                states.push(node);
            }
        }
        Tensor::cat(states.split_off(2), 1)
    }

    /// This cell's rows of the `[28, 8]` weights start here.
    fn first_row(&self) -> usize {
        if self.reduction { SEARCH_EDGES } else { 0 }
    }

    fn trainable_params(&self) -> usize {
        self.preprocess_0.trainable_params()
            + self.preprocess_1.trainable_params()
            + self
                .edges
                .iter()
                .map(MixedOp::trainable_params)
                .sum::<usize>()
    }
}

impl StackedCell for MixedCell {
    fn trainable_params(&self) -> usize {
        MixedCell::trainable_params(self)
    }
}

/// The relaxed DARTS network.
#[derive(Module, Debug)]
pub struct DartsSupernet {
    stack: CellStack<MixedCell>,
}

impl DartsSupernet {
    /// Builds the supernet of shape `net` (which must pass
    /// [`DartsNetConfig::check_input`]) on `device`, its weights drawn from `seed` alone.
    pub fn new(net: &DartsNetConfig, device: &Device, seed: u64) -> Self {
        DartsSupernet {
            stack: CellStack::new(net, device, seed, |s| MixedCell::new(s, device)),
        }
    }

    pub fn trainable_params(&self) -> usize {
        self.stack.trainable_params()
    }

    /// Logits, edge `row` (of the `[28, 8]` weights) computed by `edge(row, op, input)`.
    fn run(
        &self,
        x: Tensor<4>,
        edge: impl Fn(usize, &MixedOp, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<2> {
        self.stack.forward(x, |cell, s0, s1| {
            let first = cell.first_row();
            cell.run(s0, s1, |e, op, h| edge(first + e, op, h))
        })
    }

    /// Logits with every edge's ops mixed by its row of `weights` (`[28, 8]`).
    pub fn forward_mixed(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<2> {
        self.run(x, |row, op, h| {
            op.forward_mixed(h, weights.clone().slice([row..row + 1, 0..CANDIDATES]))
        })
    }

    /// Logits of one op per edge, `choices[row]` ([`MixedOp::forward_sampled`]).
    pub fn forward_sampled(
        &self,
        x: Tensor<4>,
        weights: &Tensor<2>,
        choices: &[usize],
    ) -> Tensor<2> {
        self.run(x, |row, op, h| {
            let k = choices.get(row).copied().unwrap_or(0).min(CANDIDATES - 1);
            op.forward_sampled(h, weights.clone().slice([row..row + 1, 0..CANDIDATES]), k)
        })
    }
}
