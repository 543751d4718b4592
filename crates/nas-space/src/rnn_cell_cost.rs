//! Parameters and FLOPs of a recurrent cell and of the text classifier around it, counted
//! from the structure with the conventions of [`crate::nb201_cost`] (a weight costs one
//! multiply-accumulate per use; activations, gates and the mean cost nothing). The
//! embedding has as many dimensions as the hidden state, as in ENAS and DARTS.
//!
//! The cell's matrices have no biases (as DARTS's): node 0's `[x_t, h_{t-1}]` to `2H`
//! (the gate and the candidate), each other node's `H` to `2H`. burn's LSTM and GRU, the
//! baselines, have two biased linear maps (input and hidden) per gate.

use crate::rnn_cell::RnnCellArch;
use nas_core::Cost;

/// The text classifier's shape: hidden size `H` (and embedding size), the vocabulary's
/// rows, words a sentence keeps, classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextNetConfig {
    pub hidden: usize,
    pub vocabulary: usize,
    pub max_words: usize,
    pub classes: usize,
}

/// One step of the cell: parameters, and FLOPs per token.
pub fn cell_per_token(arch: &RnnCellArch, hidden: usize) -> Cost {
    let h = hidden as u64;
    let weights = 2 * h * 2 * h + arch.nodes.len() as u64 * h * 2 * h;
    Cost {
        params: weights,
        flops: weights,
    }
}

/// One step of burn's LSTM (4 gates) or GRU (3 gates) of input and hidden size `hidden`.
pub fn gated_per_token(gates: usize, hidden: usize) -> Cost {
    let h = hidden as u64;
    let per_gate = 2 * (h * h + h);
    Cost {
        params: gates as u64 * per_gate,
        flops: gates as u64 * per_gate,
    }
}

/// The whole classifier (embedding, the recurrent step run over `max_words` tokens, the
/// linear head) around a step costing `step`: FLOPs are per sentence of `max_words` words.
pub fn text_net(step: Cost, net: &TextNetConfig) -> Cost {
    let mut c = Cost {
        params: (net.vocabulary * net.hidden) as u64 + step.params,
        flops: step.flops * net.max_words as u64,
    };
    c.linear(net.hidden, net.classes);
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_node_cell_by_hand() {
        let arch: RnnCellArch = "tanh<0|relu<1".parse().unwrap_or_else(|e| panic!("{e}"));
        let step = cell_per_token(&arch, 4);
        // W0: 8 x 8, two nodes of 4 x 8.
        assert_eq!(step.params, 64 + 2 * 32);
        let net = TextNetConfig {
            hidden: 4,
            vocabulary: 10,
            max_words: 5,
            classes: 2,
        };
        let c = text_net(step, &net);
        assert_eq!(c.params, 40 + 128 + (4 * 2 + 2));
        assert_eq!(c.flops, 128 * 5 + 4 * 2 + 2);
        // burn's LSTM at H = 4: 4 gates of two 4 x 4 maps with biases.
        assert_eq!(gated_per_token(4, 4).params, 4 * 2 * (16 + 4));
    }
}
