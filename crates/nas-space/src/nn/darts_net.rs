//! The network of a DARTS genotype on burn (see [`crate::darts_cost`] for its structure;
//! the parameter count of a built network equals the structural count).
//!
//! # Shapes
//! Input `[batch, channels, height, width]` with height and width multiples of 4 (see
//! [`DartsNetConfig::check_input`]); output `[batch, classes]` logits.

use super::darts_ops::{FactorizedReduce, Preprocess, ReluConv1x1Bn, ReluDwPwBn, SepConv};
use super::darts_ops::{Pool3x3, dil_conv};
use super::nb201_net::{bn_params, classifier, conv};
use crate::darts::{DartsArch, DartsCell, Op};
use crate::darts_cost::{CellShape, DartsNetConfig, STEM_MULTIPLIER};
use burn::module::{Module, ModuleDisplay};
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, BatchNormConfig, Linear};
use burn::tensor::{Device, Tensor};
use nas_core::Rng;
use nas_nn::init::SeededInit;
use nas_nn::kernels::{self, conv2d};

/// One edge of a derived cell: its op, applied to node `input`. Which of the optional
/// parts is set says the op; none set is the identity (`skip_connect` at stride 1).
#[derive(Module, Debug)]
pub struct CellOp {
    input: usize,
    sep: Option<SepConv>,
    dil: Option<ReluDwPwBn>,
    reduce: Option<FactorizedReduce>,
    pool: Option<Pool3x3>,
}

impl CellOp {
    fn new(op: Op, input: usize, channels: usize, stride: usize, d: &Device) -> Self {
        let kernel = op.kernel().unwrap_or(3);
        CellOp {
            input,
            sep: matches!(op, Op::SEP_CONV_3X3 | Op::SEP_CONV_5X5)
                .then(|| SepConv::new(channels, kernel, stride, true, d)),
            dil: matches!(op, Op::DIL_CONV_3X3 | Op::DIL_CONV_5X5)
                .then(|| dil_conv(channels, kernel, stride, true, d)),
            reduce: (op == Op::SKIP_CONNECT && stride == 2)
                .then(|| FactorizedReduce::new(channels, channels, true, d)),
            pool: match op {
                Op::MAX_POOL_3X3 => Some(Pool3x3::max(stride)),
                Op::AVG_POOL_3X3 => Some(Pool3x3::average(stride)),
                _ => None,
            },
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        if let Some(op) = &self.sep {
            op.forward(x)
        } else if let Some(op) = &self.dil {
            op.forward(x)
        } else if let Some(op) = &self.reduce {
            op.forward(x)
        } else if let Some(pool) = &self.pool {
            pool.forward(x)
        } else {
            x
        }
    }

    fn trainable_params(&self) -> usize {
        self.sep.as_ref().map_or(0, SepConv::trainable_params)
            + self.dil.as_ref().map_or(0, ReluDwPwBn::trainable_params)
            + self
                .reduce
                .as_ref()
                .map_or(0, FactorizedReduce::trainable_params)
    }
}

/// A cell at its place in the network: its two preprocessings, then its eight edges.
#[derive(Module, Debug)]
pub struct CellNet {
    preprocess_0: Preprocess,
    preprocess_1: ReluConv1x1Bn,
    edges: Vec<CellOp>,
}

impl CellNet {
    fn new(cell: &DartsCell, shape: &CellShape, d: &Device) -> Self {
        let c = shape.channels;
        CellNet {
            preprocess_0: Preprocess::new(shape.c_prev_prev, c, shape.reduction_prev, true, d),
            preprocess_1: ReluConv1x1Bn::new(shape.c_prev, c, true, d),
            edges: cell
                .edges
                .iter()
                .map(|e| CellOp::new(e.op, e.input, c, shape.stride(e.input), d))
                .collect(),
        }
    }

    /// The cell's output from the outputs two cells back (`s0`) and one cell back (`s1`):
    /// its four intermediate nodes, concatenated along the channels.
    fn forward(&self, s0: Tensor<4>, s1: Tensor<4>) -> Tensor<4> {
        let mut states = vec![self.preprocess_0.forward(s0), self.preprocess_1.forward(s1)];
        for pair in self.edges.chunks(2) {
            let mut node: Option<Tensor<4>> = None;
            for edge in pair {
                let y = edge.forward(states[edge.input].clone());
                node = Some(match node {
                    Some(sum) => sum + y,
                    None => y,
                });
            }
            if let Some(node) = node {
                states.push(node);
            }
        }
        Tensor::cat(states.split_off(2), 1)
    }

    fn trainable_params(&self) -> usize {
        self.preprocess_0.trainable_params()
            + self.preprocess_1.trainable_params()
            + self
                .edges
                .iter()
                .map(CellOp::trainable_params)
                .sum::<usize>()
    }
}

/// What a [`CellStack`] stacks: a derived cell or a search cell.
pub trait StackedCell: Module + ModuleDisplay + std::fmt::Debug {
    fn trainable_params(&self) -> usize;
}

impl StackedCell for CellNet {
    fn trainable_params(&self) -> usize {
        CellNet::trainable_params(self)
    }
}

/// The network around the cells, as the original builds it for search and evaluation
/// alike: the stem, the cells (each reading the outputs of the two before it), global
/// average pooling and the classifier.
#[derive(Module, Debug)]
pub struct CellStack<C: StackedCell> {
    stem: Conv2d,
    stem_bn: BatchNorm,
    cells: Vec<C>,
    classifier: Linear,
}

impl<C: StackedCell> CellStack<C> {
    /// The stack of shape `net` (which must pass [`DartsNetConfig::check_input`]), each
    /// cell made by `cell` from its place, the weights drawn from `seed` alone (see
    /// [`SeededInit`]).
    pub fn new(
        net: &DartsNetConfig,
        device: &Device,
        seed: u64,
        cell: impl Fn(&CellShape) -> C,
    ) -> Self {
        let (shapes, c_last) = net.cell_shapes();
        let channels = STEM_MULTIPLIER * net.channels;
        CellStack {
            stem: conv(net.input[0], channels, 3, 1, 1, device),
            stem_bn: BatchNormConfig::new(channels).init(device),
            cells: shapes.iter().map(cell).collect(),
            classifier: classifier(c_last, net.classes, device),
        }
        .map(&mut SeededInit {
            rng: Rng::new(seed),
        })
    }

    pub fn trainable_params(&self) -> usize {
        self.stem.num_params()
            + bn_params(&self.stem_bn)
            + self.cells.iter().map(C::trainable_params).sum::<usize>()
            + self.classifier.num_params()
    }

    /// Logits, each cell's output computed by `cell(cell, s0, s1)` from the outputs two
    /// cells back and one cell back (no ReLU before the pooling, as in the original).
    pub fn forward(
        &self,
        x: Tensor<4>,
        cell: impl Fn(&C, Tensor<4>, Tensor<4>) -> Tensor<4>,
    ) -> Tensor<2> {
        let s = kernels::batch_norm(&self.stem_bn, conv2d(&self.stem, x));
        let (mut s0, mut s1) = (s.clone(), s);
        for c in &self.cells {
            let next = cell(c, s0, s1.clone());
            (s0, s1) = (s1, next);
        }
        let pooled: Tensor<2> = s1.mean_dim(3).mean_dim(2).flatten(1, 3);
        self.classifier.forward(pooled)
    }
}

/// The DARTS network (`NetworkCIFAR` without the auxiliary head) of a genotype.
#[derive(Module, Debug)]
pub struct DartsNet {
    stack: CellStack<CellNet>,
}

impl DartsNet {
    /// Builds the network of `arch` on `device`, its weights drawn from `seed` alone (see
    /// [`SeededInit`]). `net` must pass [`DartsNetConfig::check_input`].
    pub fn new(arch: &DartsArch, net: &DartsNetConfig, device: &Device, seed: u64) -> Self {
        let stack = CellStack::new(net, device, seed, |s| {
            let cell = if s.reduction {
                &arch.reduce
            } else {
                &arch.normal
            };
            CellNet::new(cell, s, device)
        });
        DartsNet { stack }
    }

    /// Trainable parameters: the count [`crate::darts_cost::cost`] gives.
    pub fn trainable_params(&self) -> usize {
        self.stack.trainable_params()
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.stack.forward(x, |cell, s0, s1| cell.forward(s0, s1))
    }
}
