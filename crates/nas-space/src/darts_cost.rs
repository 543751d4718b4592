//! The network of a DARTS genotype, as the original code builds it (`NetworkCIFAR` without
//! the auxiliary head), and its parameters and FLOPs counted from the structure.
//!
//! A 3x3 stem convolution to `3C` channels with batch norm; then `cells` cells, the ones
//! at `cells / 3` and `2 * cells / 3` reduction cells (stride 2 on the edges that read the
//! cell's inputs, channels doubled); global average pooling and a linear classifier. Each
//! cell first maps its two inputs to its `C` channels: a ReLU-1x1 conv-BN, or, for the
//! input from before a reduction, a factorized reduce. Ops (the original `OPS`):
//! - `sep_conv_kxk`: twice ReLU, depthwise `k x k` conv, pointwise conv, batch norm (only
//!   the first depthwise conv has the stride);
//! - `dil_conv_kxk`: ReLU, depthwise `k x k` conv with dilation 2, pointwise conv, BN;
//! - `skip_connect`: identity, or at stride 2 a factorized reduce (ReLU, two 1x1 stride-2
//!   convs of half the channels, the second on the input shifted by one pixel, BN);
//! - pools: 3x3, padding 1, the average not counting the padding.
//!
//! Convolutions have no bias; batch norms have an affine pair. FLOPs are multiply-
//! accumulates of convolutions and the classifier, as for NB201.

use crate::darts::{CellEdge, DartsArch, Op};
use nas_core::cost::{Cost, out_size};
use serde::{Deserialize, Serialize};

/// The shape of a DARTS network: the paper searches at `C = 16`, 8 cells, and evaluates
/// the derived cell at `C = 36`, 20 cells, on 32x32x3 images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DartsNetConfig {
    /// Channels of a cell's nodes before the first reduction (`C`).
    pub channels: usize,
    /// Cells in the network.
    pub cells: usize,
    /// `[channels, height, width]` of the input images.
    pub input: [usize; 3],
    pub classes: usize,
}

impl Default for DartsNetConfig {
    fn default() -> Self {
        DartsNetConfig {
            channels: 16,
            cells: 8,
            input: [3, 32, 32],
            classes: 10,
        }
    }
}

/// The stem's channels are this many times `C`.
pub const STEM_MULTIPLIER: usize = 3;

/// One cell's place in the network: what it reads and at which sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellShape {
    pub reduction: bool,
    /// The cell two back was before a reduction: its output is at twice this cell's input
    /// size, and a factorized reduce maps it.
    pub reduction_prev: bool,
    /// Channels of the outputs two cells back and one cell back.
    pub c_prev_prev: usize,
    pub c_prev: usize,
    /// Channels of this cell's nodes.
    pub channels: usize,
    /// `[height, width]` of the output two cells back and one cell back.
    pub size_prev_prev: [usize; 2],
    pub size_prev: [usize; 2],
}

impl CellShape {
    /// `[height, width]` of the cell's output.
    pub fn out_size(&self) -> [usize; 2] {
        if self.reduction {
            self.size_prev.map(|s| out_size(s, 1, 2, 0))
        } else {
            self.size_prev
        }
    }

    /// Stride of an edge reading node `input`: 2 for a reduction cell's inputs.
    pub fn stride(&self, input: usize) -> usize {
        if self.reduction && input < 2 { 2 } else { 1 }
    }
}

impl DartsNetConfig {
    /// Whether cell `i` is a reduction cell.
    pub fn is_reduction(&self, i: usize) -> bool {
        i == self.cells / 3 || i == 2 * self.cells / 3
    }

    /// The shape of every cell, and the channels of the last cell's output.
    pub fn cell_shapes(&self) -> (Vec<CellShape>, usize) {
        let stem = STEM_MULTIPLIER * self.channels;
        let [_, h, w] = self.input;
        let (mut c_pp, mut c_p, mut c) = (stem, stem, self.channels);
        let (mut size_pp, mut size_p) = ([h, w], [h, w]);
        let mut reduction_prev = false;
        let mut shapes = Vec::with_capacity(self.cells);
        for i in 0..self.cells {
            let reduction = self.is_reduction(i);
            if reduction {
                c *= 2;
            }
            let shape = CellShape {
                reduction,
                reduction_prev,
                c_prev_prev: c_pp,
                c_prev: c_p,
                channels: c,
                size_prev_prev: size_pp,
                size_prev: size_p,
            };
            shapes.push(shape);
            (c_pp, c_p) = (c_p, 4 * c);
            (size_pp, size_p) = (size_p, shape.out_size());
            reduction_prev = reduction;
        }
        (shapes, c_p)
    }

    /// Why the network cannot take its input, if it cannot: every reduction halves the
    /// image, and its factorized reduce (two stride-2 convs, one shifted by a pixel) needs
    /// an even size to produce equal halves.
    ///
    /// # Errors
    /// The reason, with the sizes that work.
    pub fn check_input(&self) -> Result<(), String> {
        if self.cells == 0 {
            return Err("a darts network needs at least one cell".into());
        }
        if self.channels == 0 {
            return Err("a darts network needs at least one channel".into());
        }
        let reductions = (0..self.cells).filter(|&i| self.is_reduction(i)).count();
        let multiple = 1usize << reductions;
        let [_, h, w] = self.input;
        if h == 0 || w == 0 || !h.is_multiple_of(multiple) || !w.is_multiple_of(multiple) {
            return Err(format!(
                "the darts network of {} cells cannot take {h}x{w} images: its {reductions} reductions need height and width multiples of {multiple} (28x28 and 32x32 work), because each factorized reduce needs an even size",
                self.cells
            ));
        }
        Ok(())
    }
}

/// ReLU, 1x1 convolution, batch norm at `size`.
fn relu_conv_bn(c: &mut Cost, c_in: usize, c_out: usize, size: [usize; 2]) {
    c.conv(c_in, c_out, 1, size[0], size[1]);
    c.batch_norm(c_out);
}

/// A factorized reduce from `size` (even) to half of it.
fn factorized_reduce(c: &mut Cost, c_in: usize, c_out: usize, size: [usize; 2]) {
    let [h, w] = size.map(|s| s / 2);
    c.conv(c_in, c_out / 2, 1, h, w);
    c.conv(c_in, c_out - c_out / 2, 1, h, w);
    c.batch_norm(c_out);
}

/// One edge's op on `channels` channels of an input of `size`.
fn edge(c: &mut Cost, op: Op, channels: usize, size: [usize; 2], stride: usize) {
    let [h, w] = size.map(|s| out_size(s, 1, stride, 0));
    match (op, op.kernel()) {
        (Op::SKIP_CONNECT, _) if stride == 2 => factorized_reduce(c, channels, channels, size),
        (Op::SEP_CONV_3X3 | Op::SEP_CONV_5X5, Some(k)) => {
            for _ in 0..2 {
                c.depthwise_conv(channels, k, h, w);
                c.conv(channels, channels, 1, h, w);
                c.batch_norm(channels);
            }
        }
        (Op::DIL_CONV_3X3 | Op::DIL_CONV_5X5, Some(k)) => {
            c.depthwise_conv(channels, k, h, w);
            c.conv(channels, channels, 1, h, w);
            c.batch_norm(channels);
        }
        _ => {}
    }
}

/// The cell's preprocessing of its two inputs.
pub(crate) fn preprocess(c: &mut Cost, s: &CellShape) {
    if s.reduction_prev {
        factorized_reduce(c, s.c_prev_prev, s.channels, s.size_prev_prev);
    } else {
        relu_conv_bn(c, s.c_prev_prev, s.channels, s.size_prev_prev);
    }
    relu_conv_bn(c, s.c_prev, s.channels, s.size_prev);
}

/// Counts the network of `arch`.
pub fn cost(arch: &DartsArch, net: &DartsNetConfig) -> Cost {
    let mut c = Cost::default();
    let [c_in, h, w] = net.input;
    let stem = STEM_MULTIPLIER * net.channels;
    c.conv(c_in, stem, 3, h, w);
    c.batch_norm(stem);
    let (shapes, c_last) = net.cell_shapes();
    for s in &shapes {
        preprocess(&mut c, s);
        let cell = if s.reduction {
            &arch.reduce
        } else {
            &arch.normal
        };
        for &CellEdge { op, input } in &cell.edges {
            edge(&mut c, op, s.channels, s.size_prev, s.stride(input));
        }
    }
    c.linear(c_last, net.classes);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::darts::DARTS_V2;

    #[test]
    fn reductions_sit_at_a_third_and_two_thirds() {
        let net = DartsNetConfig {
            cells: 20,
            ..DartsNetConfig::default()
        };
        let reductions: Vec<usize> = (0..20).filter(|&i| net.is_reduction(i)).collect();
        assert_eq!(reductions, [6, 13]);
        let (shapes, last) = net.cell_shapes();
        assert_eq!(last, 4 * 4 * 16);
        assert_eq!(shapes[7].size_prev_prev, [32, 32]);
        assert_eq!(shapes[7].size_prev, [16, 16]);
        assert!(shapes[7].reduction_prev);
    }

    #[test]
    fn inputs_the_reductions_cannot_halve_are_refused() {
        let at = |cells, side| DartsNetConfig {
            cells,
            input: [1, side, side],
            ..DartsNetConfig::default()
        };
        assert!(at(5, 28).check_input().is_ok());
        assert!(at(1, 6).check_input().is_ok());
        let e = at(5, 30).check_input().unwrap_err();
        assert!(e.contains("multiples of 4"), "{e}");
        assert!(at(0, 32).check_input().is_err());
    }

    #[test]
    fn darts_v2_at_the_papers_cifar_setting() {
        // C = 36, 20 cells, 32x32x3, 10 classes, no auxiliary head: the count the
        // original code's `count_parameters_in_MB` prints, 3.349342 MB. The multiply-
        // accumulates (528M) are this model's count; the paper states none for CIFAR.
        let arch = DartsArch::parse(DARTS_V2).unwrap();
        let net = DartsNetConfig {
            channels: 36,
            cells: 20,
            input: [3, 32, 32],
            classes: 10,
        };
        let c = cost(&arch, &net);
        assert_eq!(c.params, 3_349_342);
        assert_eq!(c.flops, 528_359_050);
    }
}
