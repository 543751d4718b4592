//! Parameters and FLOPs of an MLP, counted from its structure with the conventions of
//! [`crate::nb201_cost`]: a linear layer has `in * out` weights and `out` biases, and costs
//! as many multiply-accumulates. Activations and dropout cost nothing.

use crate::mlp::MlpArch;
use nas_core::Cost;

/// Counts the network of `arch` for `input` images (`[channels, height, width]`, flattened)
/// and `classes` outputs.
pub fn cost(arch: &MlpArch, input: [usize; 3], classes: usize) -> Cost {
    let mut c = Cost::default();
    let mut features = input.iter().product();
    for &w in &arch.widths {
        c.linear(features, w);
        features = w;
    }
    c.linear(features, classes);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_hidden_layers_by_hand() {
        let arch: MlpArch = "32-16:relu:0".parse().unwrap_or_else(|e| panic!("{e}"));
        let c = cost(&arch, [1, 8, 8], 10);
        let expected = (64 * 32 + 32) + (32 * 16 + 16) + (16 * 10 + 10);
        assert_eq!((c.params, c.flops), (expected, expected));
    }
}
