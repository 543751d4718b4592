//! Parameters and FLOPs of a chain CNN, counted from its structure with the conventions
//! of [`crate::nb201_cost`]: convolutions without bias, batch norms with an affine weight
//! and bias, FLOPs as multiply-accumulates of convolutions and of the classifier (plus its
//! bias). Pooling (size matching, global average) costs nothing under this convention.
//! Dead layers are counted: the network builds them.

use crate::chain_cnn::ChainArch;
use nas_core::Cost;

/// Counts the network of `arch` for `input` images (`[channels, height, width]`) and
/// `classes` outputs.
pub fn cost(arch: &ChainArch, input: [usize; 3], classes: usize) -> Cost {
    let mut c = Cost::default();
    let (reads, outputs) = arch.shapes(input);
    for ((layer, read), out) in arch.layers.iter().zip(&reads).zip(&outputs) {
        c.conv(read[0], layer.filters, layer.kernel, out[1], out[2]);
        c.batch_norm(layer.filters);
    }
    let features = arch.layers.last().map_or(input[0], |l| l.filters);
    c.linear(features, classes);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_layer_chain_by_hand() {
        let arch: ChainArch = "f4k3s2|f8k1s1<0".parse().unwrap_or_else(|e| panic!("{e}"));
        let c = cost(&arch, [1, 8, 8], 10);
        // conv 1*4*9 = 36 (+8 bn) at 4x4; conv 4*8 = 32 (+16 bn) at 4x4; linear 8*10+10.
        assert_eq!(c.params, 36 + 8 + 32 + 16 + 90);
        assert_eq!(c.flops, 36 * 16 + 32 * 16 + 90);
    }
}
