//! Parameters and FLOPs of the NAS-Bench-201 network, counted from its structure.
//!
//! The network (Dong & Yang 2020): a 3x3 stem convolution with batch norm, three stages of
//! `cells_per_stage` cells at `C`, `2C`, `4C` channels with a residual reduction block
//! between stages, a final batch norm, global average pooling and a linear classifier.
//! Convolutions have no bias; batch norms have an affine weight and bias.
//!
//! FLOPs follow the benchmark's convention: multiply-accumulates of convolutions and of the
//! linear layer (plus its bias), nothing else. With `C = 16`, 5 cells a stage, 32x32x3
//! inputs and 10 classes, both counts equal the table's `cifar10_params_m` and
//! `cifar10_flops_m` for every cell.

use crate::nb201::{EDGES, NONE};
use nas_core::cost::{Cost, out_size};
use serde::{Deserialize, Serialize};

/// The shape of an NB201 network: the benchmark's is `C = 16`, 5 cells a stage, 32x32x3
/// inputs; a proxy can be narrower and shallower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Nb201NetConfig {
    /// Channels of the first stage (`C`); the others have `2C` and `4C`.
    pub channels: usize,
    /// Cells in each of the three stages (`N`).
    pub cells_per_stage: usize,
    /// `[channels, height, width]` of the input images.
    pub input: [usize; 3],
    pub classes: usize,
}

impl Default for Nb201NetConfig {
    fn default() -> Self {
        Nb201NetConfig {
            channels: 16,
            cells_per_stage: 5,
            input: [3, 32, 32],
            classes: 10,
        }
    }
}

/// Counts the network of the cell `ops` (op indices in genotype order).
pub fn cost(ops: &[u32; 6], net: &Nb201NetConfig) -> Cost {
    let mut c = Cost::default();
    let [c_in, mut h, mut w] = net.input;
    let mut channels = net.channels;
    // Stem: 3x3 convolution, padding 1, then batch norm.
    c.conv(c_in, channels, 3, h, w);
    c.batch_norm(channels);
    for stage in 0..3 {
        if stage > 0 {
            // Residual reduction block: ReLU-Conv(3x3, stride 2)-BN, ReLU-Conv(3x3)-BN, and a
            // shortcut of 2x2 average pooling then a 1x1 convolution.
            let c_out = channels * 2;
            h = out_size(h, 3, 2, 1);
            w = out_size(w, 3, 2, 1);
            c.conv(channels, c_out, 3, h, w);
            c.batch_norm(c_out);
            c.conv(c_out, c_out, 3, h, w);
            c.batch_norm(c_out);
            c.conv(channels, c_out, 1, h, w);
            channels = c_out;
        }
        for _ in 0..net.cells_per_stage {
            for (k, _) in EDGES.iter().enumerate() {
                match ops[k] {
                    2 => {
                        c.conv(channels, channels, 1, h, w);
                        c.batch_norm(channels);
                    }
                    3 => {
                        c.conv(channels, channels, 3, h, w);
                        c.batch_norm(channels);
                    }
                    NONE | 1 | 4 => {}
                    _ => {}
                }
            }
        }
    }
    // Final batch norm, global pooling, classifier.
    c.batch_norm(channels);
    c.linear(channels, net.classes);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_cell_by_hand() {
        // Stem 432 + 32, reduction blocks 14,464 and 57,600, final BN 128, classifier 650.
        let c = cost(&[0; 6], &Nb201NetConfig::default());
        assert_eq!(c.params, 73_306);
        assert_eq!(c.flops, 7_783_050);
    }
}
