//! The NAS-Bench-201 supernet: every edge of every cell holds all five candidate ops, and
//! their weights are shared by every cell the supernet can run (ENAS, Pham et al. 2018).
//!
//! A forward pass takes a cell's op codes (the same six digits as [`crate::nb201`]) and
//! runs only those ops, so one set of weights trains and scores all 15,625 cells. The
//! stem, the reduction blocks and the classifier are the NB201 network's own
//! ([`super::nb201_net`]), so a cell run in the supernet has exactly the shapes it has in
//! the stand-alone network.
//!
//! Each cell position in the network has its own edges (the cell's op choice is shared
//! across positions, its weights are not), as in NB201's own ENAS and DARTS supernets.

use super::nb201_net::{
    Reduction, ReluConvBn, avg_pool_3x3, batch_norm, classifier, conv, head, maybe_bn,
    optional_bn_params,
};
use crate::nb201::EDGES;
use crate::nb201_cost::Nb201NetConfig;
use burn::module::Module;
use burn::nn::pool::AvgPool2d;
use burn::nn::{BatchNorm, Linear};
use burn::tensor::{Device, Tensor};
use nas_core::Rng;
use nas_nn::init::SeededInit;
use nas_nn::kernels::{avg_pool, conv2d};

/// One edge with every candidate op: `none` and `skip_connect` have no weights, the two
/// convolutions have their own, the pooling has none.
#[derive(Module, Debug)]
pub struct MixedEdge {
    conv_1x1: ReluConvBn,
    conv_3x3: ReluConvBn,
    pool: AvgPool2d,
}

impl MixedEdge {
    fn new(channels: usize, device: &Device) -> Self {
        MixedEdge {
            conv_1x1: ReluConvBn::new(channels, channels, 1, 1, true, device),
            conv_3x3: ReluConvBn::new(channels, channels, 3, 1, true, device),
            pool: avg_pool_3x3(),
        }
    }

    /// The output of op `op` (NB201 code: 0 none, 1 skip, 2 conv 1x1, 3 conv 3x3, 4 avg
    /// pool); `None` for `none`, whose zero adds nothing.
    fn forward(&self, x: Tensor<4>, op: u32) -> Option<Tensor<4>> {
        match op {
            1 => Some(x),
            2 => Some(self.conv_1x1.forward(x)),
            3 => Some(self.conv_3x3.forward(x)),
            4 => Some(avg_pool(&self.pool, x)),
            _ => None,
        }
    }

    /// Every op at once, weighted (DARTS's mixed op): `Σ_k w_k · op_k(x)` for the edge's
    /// row `w` of five architecture weights; `none` adds nothing.
    fn forward_mixed(&self, x: Tensor<4>, w: Tensor<2>) -> Tensor<4> {
        let weight = |k: usize| w.clone().slice([0..1, k..k + 1]).reshape([1, 1, 1, 1]);
        let skip = x.clone() * weight(1);
        let conv_1x1 = self.conv_1x1.forward(x.clone()) * weight(2);
        let conv_3x3 = self.conv_3x3.forward(x.clone()) * weight(3);
        skip + conv_1x1 + conv_3x3 + avg_pool(&self.pool, x) * weight(4)
    }

    /// GDAS's sampled edge: only op `op` runs, scaled by its weight; every other weight
    /// of the row `w` is added as a scalar. With straight-through weights (one-hot in
    /// value) the output is the sampled op's, and the gradient reaches every weight of
    /// the row, as in GDAS's code (Dong & Yang 2019).
    fn forward_sampled(&self, x: Tensor<4>, w: Tensor<2>, op: u32) -> Tensor<4> {
        let weight = |k: usize| w.clone().slice([0..1, k..k + 1]).reshape([1, 1, 1, 1]);
        let others = (0..5)
            .filter(|&k| k != op as usize)
            .map(weight)
            .reduce(|a, b| a + b);
        let chosen = match self.forward(x.clone(), op) {
            Some(y) => y * weight(op as usize),
            // `none`: zero, whatever its weight (whose gradient is zero too).
            None => x.zeros_like(),
        };
        match others {
            Some(o) => chosen + o,
            None => chosen,
        }
    }
}

/// A cell position: one mixed edge per NB201 edge, in [`EDGES`] order.
#[derive(Module, Debug)]
pub struct MixedCell {
    edges: Vec<MixedEdge>,
}

impl MixedCell {
    fn forward(&self, x: Tensor<4>, ops: &[u32; 6]) -> Tensor<4> {
        let mut nodes: Vec<Option<Tensor<4>>> = vec![Some(x.clone()), None, None, None];
        for j in 1..4 {
            let mut sum: Option<Tensor<4>> = None;
            for (k, &(from, to)) in EDGES.iter().enumerate() {
                if to != j {
                    continue;
                }
                let Some(input) = nodes[from].clone() else {
                    continue;
                };
                if let Some(y) = self.edges[k].forward(input, ops[k]) {
                    sum = Some(match sum {
                        Some(s) => s + y,
                        None => y,
                    });
                }
            }
            nodes[j] = sum;
        }
        // A cell whose output is cut off computes zero, as in the stand-alone network.
        nodes[3].take().unwrap_or_else(|| x.zeros_like())
    }

    /// Every edge runs its op of `ops`, as [`MixedEdge::forward_sampled`] weights it.
    fn forward_sampled(&self, x: Tensor<4>, weights: &Tensor<2>, ops: &[u32; 6]) -> Tensor<4> {
        let mut nodes: Vec<Tensor<4>> = vec![x];
        for j in 1..4 {
            let mut sum: Option<Tensor<4>> = None;
            for (k, &(from, to)) in EDGES.iter().enumerate() {
                if to != j {
                    continue;
                }
                let row = weights.clone().slice([k..k + 1, 0..5]);
                let y = self.edges[k].forward_sampled(nodes[from].clone(), row, ops[k]);
                sum = Some(match sum {
                    Some(s) => s + y,
                    None => y,
                });
            }
            nodes.push(sum.unwrap_or_else(|| nodes[0].zeros_like()));
        }
        nodes.swap_remove(3)
    }

    /// Every edge mixed by `weights`, `[6, 5]` in [`EDGES`] order: node `j` sums its
    /// incoming mixed edges.
    fn forward_mixed(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<4> {
        let mut nodes: Vec<Tensor<4>> = vec![x];
        for j in 1..4 {
            let mut sum: Option<Tensor<4>> = None;
            for (k, &(from, to)) in EDGES.iter().enumerate() {
                if to != j {
                    continue;
                }
                let row = weights.clone().slice([k..k + 1, 0..5]);
                let y = self.edges[k].forward_mixed(nodes[from].clone(), row);
                sum = Some(match sum {
                    Some(s) => s + y,
                    None => y,
                });
            }
            // Every node has an incoming edge in NB201.
            nodes.push(sum.unwrap_or_else(|| nodes[0].zeros_like()));
        }
        nodes.swap_remove(3)
    }
}

/// A stage: an optional reduction block, then its cell positions.
#[derive(Module, Debug)]
pub struct MixedStage {
    reduction: Option<Reduction>,
    cells: Vec<MixedCell>,
}

/// The NB201 network with a mixed cell at every cell position.
#[derive(Module, Debug)]
pub struct Nb201Supernet {
    stem: burn::nn::conv::Conv2d,
    stem_bn: Option<BatchNorm>,
    stages: Vec<MixedStage>,
    last_bn: Option<BatchNorm>,
    classifier: Linear,
}

impl Nb201Supernet {
    /// Builds the supernet of shape `net` on `device`, its weights drawn from `seed`
    /// alone (see [`SeededInit`]).
    pub fn new(net: &Nb201NetConfig, device: &Device, seed: u64) -> Self {
        let c = net.channels;
        let stages = (0..3)
            .map(|s| {
                let channels = c << s;
                MixedStage {
                    reduction: (s > 0)
                        .then(|| Reduction::new(channels / 2, channels, true, device)),
                    cells: (0..net.cells_per_stage)
                        .map(|_| MixedCell {
                            edges: EDGES
                                .iter()
                                .map(|_| MixedEdge::new(channels, device))
                                .collect(),
                        })
                        .collect(),
                }
            })
            .collect();
        Nb201Supernet {
            stem: conv(net.input[0], c, 3, 1, 1, device),
            stem_bn: batch_norm(c, true, device),
            stages,
            last_bn: batch_norm(4 * c, true, device),
            classifier: classifier(4 * c, net.classes, device),
        }
        .map(&mut SeededInit {
            rng: Rng::new(seed),
        })
    }

    /// Trainable parameters of the whole supernet (every candidate op's weights).
    pub fn trainable_params(&self) -> usize {
        let mut n = self.stem.num_params() + optional_bn_params(&self.stem_bn);
        for stage in &self.stages {
            if let Some(r) = &stage.reduction {
                n += r.trainable_params();
            }
            for cell in &stage.cells {
                for e in &cell.edges {
                    n += e.conv_1x1.trainable_params() + e.conv_3x3.trainable_params();
                }
            }
        }
        n + optional_bn_params(&self.last_bn) + self.classifier.num_params()
    }

    /// Logits `[batch, classes]` of every cell at once, each edge's ops mixed by its row of
    /// `weights` (`[6, 5]`, rows in [`EDGES`] order, columns in op-code order): DARTS's
    /// continuous relaxation, the same weights at every cell position.
    pub fn forward_mixed(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<2> {
        let mut x = maybe_bn(&self.stem_bn, conv2d(&self.stem, x));
        for stage in &self.stages {
            if let Some(r) = &stage.reduction {
                x = r.forward(x);
            }
            for cell in &stage.cells {
                x = cell.forward_mixed(x, weights);
            }
        }
        head(&self.last_bn, &self.classifier, x)
    }

    /// Logits `[batch, classes]` of the sampled cell `ops`, each edge's op scaled by its
    /// weight in `weights` and the row's other weights added (GDAS; see
    /// [`MixedEdge::forward_sampled`]).
    pub fn forward_sampled(&self, x: Tensor<4>, weights: &Tensor<2>, ops: &[u32; 6]) -> Tensor<2> {
        let mut x = maybe_bn(&self.stem_bn, conv2d(&self.stem, x));
        for stage in &self.stages {
            if let Some(r) = &stage.reduction {
                x = r.forward(x);
            }
            for cell in &stage.cells {
                x = cell.forward_sampled(x, weights, ops);
            }
        }
        head(&self.last_bn, &self.classifier, x)
    }

    /// Logits `[batch, classes]` of the cell `ops` under the shared weights.
    pub fn forward(&self, x: Tensor<4>, ops: &[u32; 6]) -> Tensor<2> {
        let mut x = maybe_bn(&self.stem_bn, conv2d(&self.stem, x));
        for stage in &self.stages {
            if let Some(r) = &stage.reduction {
                x = r.forward(x);
            }
            for cell in &stage.cells {
                x = cell.forward(x, ops);
            }
        }
        head(&self.last_bn, &self.classifier, x)
    }
}
