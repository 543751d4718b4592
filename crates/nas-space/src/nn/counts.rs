//! Parameters and activation values per image of each network here, as `f64` estimates
//! so that no size overflows: they decide whether a network fits in memory before it is
//! built (the exact integer counts of the cost models are computed once it is known to
//! fit). Each convolution keeps its input, output, batch-norm output and ReLU for the
//! backward pass; see each function for its network.

use crate::chain_cnn::ChainArch;
use crate::darts::{DartsArch, Op};
use crate::darts_cost::{DartsNetConfig, STEM_MULTIPLIER};
use crate::mlp::MlpArch;
use crate::nb201_cost::Nb201NetConfig;
use crate::rnn_cell::RnnCellArch;
use crate::rnn_cell_cost::{TextNetConfig, cell_per_token, text_net};
use nas_nn::Counts;

fn counts((params, activations): (f64, f64)) -> Counts {
    Counts {
        params,
        activations,
    }
}

/// A chain CNN: each layer keeps its concatenated input, then its convolution, batch norm
/// and ReLU outputs.
pub fn chain_cnn(a: &ChainArch, input: [usize; 3], classes: usize) -> Counts {
    let [c, h, w] = input.map(|d| d as f64);
    let classes = classes as f64;
    let (reads, outputs) = a.shapes(input);
    let mut params = 0.0;
    let mut acts = c * h * w;
    for ((layer, read), out) in a.layers.iter().zip(&reads).zip(&outputs) {
        let [rc, rh, rw] = read.map(|d| d as f64);
        let [oc, oh, ow] = out.map(|d| d as f64);
        let k = layer.kernel as f64;
        params += rc * oc * k * k + 2.0 * oc;
        // The concatenated input, then convolution, batch norm and ReLU outputs.
        acts += rc * rh * rw + 3.0 * oc * oh * ow;
    }
    let features = a.layers.last().map_or(c, |l| l.filters as f64);
    counts((params + features * classes + classes, acts))
}

/// An MLP: each layer keeps its linear output, activation and dropout mask.
pub fn mlp(a: &MlpArch, input: [usize; 3], classes: usize) -> Counts {
    let [c, h, w] = input.map(|d| d as f64);
    let classes = classes as f64;
    let mut features = c * h * w;
    let (mut params, mut acts) = (0.0, features);
    for &width in &a.widths {
        let width = width as f64;
        params += features * width + width;
        // Linear output, activation, dropout mask.
        acts += 3.0 * width;
        features = width;
    }
    counts((params + features * classes + classes, acts + classes))
}

/// A recurrent cell over a sentence of `max_words` words: per word the embedding, then
/// per node its gate product (`2H`), the gate's sigmoid and the activation (`H` each) and
/// the new state (`H`), and the step's mean and stacked state (`2H`).
pub fn rnn_cell(a: &RnnCellArch, net: &TextNetConfig) -> Counts {
    let h = net.hidden as f64;
    let per_word = h + (a.nodes.len() as f64 + 1.0) * 5.0 * h + 2.0 * h;
    let params = text_net(cell_per_token(a, net.hidden), net).params as f64;
    counts((params, per_word * net.max_words as f64 + net.classes as f64))
}

/// The NB201 network: each convolution edge keeps its ReLU'd input copy,
/// the convolution's and the batch norm's outputs, a pooling edge its output, every node
/// its sum; a reduction block seven maps of its output size.
pub fn nb201(ops: &[u32; 6], net: &Nb201NetConfig) -> Counts {
    let [c_in, mut h, mut w] = net.input.map(|d| d as f64);
    let mut ch = net.channels as f64;
    let cells = net.cells_per_stage as f64;
    let per_cell_params: f64 = ops
        .iter()
        .map(|op| match op {
            2 => 1.0,
            3 => 9.0,
            _ => 0.0,
        })
        .sum();
    let batch_norms = ops.iter().filter(|&&op| op == 2 || op == 3).count() as f64;
    let maps_per_cell: f64 = 4.0
        + ops
            .iter()
            .map(|op| match op {
                2 | 3 => 3.0,
                4 => 1.0,
                _ => 0.0,
            })
            .sum::<f64>();
    let mut params = 9.0 * c_in * ch + 2.0 * ch;
    let mut acts = c_in * h * w + 2.0 * ch * h * w;
    for stage in 0..3 {
        if stage > 0 {
            let out = 2.0 * ch;
            h = (h / 2.0).ceil();
            w = (w / 2.0).ceil();
            params += 9.0 * ch * out + 9.0 * out * out + ch * out + 4.0 * out;
            acts += 7.0 * out * h * w;
            ch = out;
        }
        params += cells * (per_cell_params * ch * ch + batch_norms * 2.0 * ch);
        acts += cells * maps_per_cell * ch * h * w;
    }
    let classes = net.classes as f64;
    counts((
        params + 2.0 * ch + ch * classes + classes,
        acts + 2.0 * ch * h * w,
    ))
}

/// A DARTS network: each preprocessing keeps three maps (ReLU'd input, convolution, batch
/// norm); an edge keeps four maps of its output size per ReLU-conv-conv-BN (a `sep_conv`
/// has two), a factorized reduce four, a pool one; every node its sum, the cell its
/// concatenation. Parameters are the structural count's, in `f64`.
pub fn darts(arch: &DartsArch, net: &DartsNetConfig) -> Counts {
    let [c_in, h, w] = net.input.map(|d| d as f64);
    let stem = (STEM_MULTIPLIER * net.channels) as f64;
    let mut params = 9.0 * c_in * stem + 2.0 * stem;
    let mut acts = c_in * h * w + 2.0 * stem * h * w;
    let (shapes, c_last) = net.cell_shapes();
    for s in &shapes {
        let c = s.channels as f64;
        let plane = |size: [usize; 2]| (size[0] * size[1]) as f64;
        let (c_pp, c_p) = (s.c_prev_prev as f64, s.c_prev as f64);
        params += (c_pp + c_p) * c + 4.0 * c;
        acts += 3.0 * c * (plane(s.size_prev_prev) + plane(s.size_prev));
        let cell = if s.reduction {
            &arch.reduce
        } else {
            &arch.normal
        };
        for e in &cell.edges {
            let out = c * plane(s.size_prev.map(|d| (d - 1) / s.stride(e.input) + 1));
            let k = e.op.kernel().unwrap_or(0) as f64;
            let (p, maps) = match e.op {
                Op::SEP_CONV_3X3 | Op::SEP_CONV_5X5 => (2.0 * (k * k * c + c * c + 2.0 * c), 8.0),
                Op::DIL_CONV_3X3 | Op::DIL_CONV_5X5 => (k * k * c + c * c + 2.0 * c, 4.0),
                Op::SKIP_CONNECT if s.stride(e.input) == 2 => (c * c + 2.0 * c, 4.0),
                Op::SKIP_CONNECT => (0.0, 0.0),
                _ => (0.0, 1.0),
            };
            params += p;
            acts += maps * out;
        }
        acts += 8.0 * c * plane(s.out_size());
    }
    let (c_last, classes) = (c_last as f64, net.classes as f64);
    counts((params + c_last * classes + classes, acts))
}
