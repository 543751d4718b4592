//! Chain-structured CNN architectures (Zoph & Le, ICLR 2017): a chain of convolution
//! layers, each choosing its filter count, kernel size and stride, and which earlier layers
//! feed it ("anchor points", skip connections).
//!
//! This module is the decoded architecture and its string form; the space (decisions,
//! genotypes) is [`crate::chain_cnn_space`], the cost model [`crate::chain_cnn_cost`].
//!
//! # Semantics
//! - Layer 0 reads the image. Layer `i > 0` reads the layers in its `inputs`; with none
//!   chosen it reads layer `i - 1`, so `inputs = []` and `inputs = [i - 1]` are the same
//!   network (the fingerprint treats them as one).
//! - Several inputs are concatenated along channels. Inputs of different spatial sizes are
//!   matched by **average pooling the larger ones down to the smallest** (adaptive average
//!   pooling, no parameters), rather than zero-padding the smaller: a stride then always
//!   shrinks what follows, and no layer reads mostly zeros.
//! - Each layer is convolution (no bias, padding `k / 2`, odd `k`), batch norm, ReLU; its
//!   output has `ceil(size / stride)` rows and columns.
//! - The classifier reads the last layer (global average pooling, linear). A layer that no
//!   path leads from to the last layer is dead: it is built and counted in the cost, but
//!   cannot change the output, so the fingerprint ignores it.
//!
//! # String form
//! Layers separated by `|`, each `f<filters>k<kernel>s<stride>`, followed by
//! `<j,k,...` when the layer chose inputs (in increasing order):
//! `f16k3s1|f32k5s2|f32k3s1<0,1`.

use nas_core::drawing::ArchGraph;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One layer of a chain CNN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainLayer {
    pub filters: usize,
    pub kernel: usize,
    pub stride: usize,
    /// The earlier layers chosen as inputs, increasing; empty means the previous layer
    /// (or the image, for layer 0).
    pub inputs: Vec<usize>,
}

/// A decoded chain CNN: its layers, first to last.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChainArch {
    pub layers: Vec<ChainLayer>,
}

/// What a layer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Image,
    Layer(usize),
}

impl ChainArch {
    /// What layer `i` reads, after the "no input means the previous layer" rule.
    pub fn sources(&self, i: usize) -> Vec<Source> {
        match self.layers.get(i) {
            Some(l) if !l.inputs.is_empty() => l.inputs.iter().map(|&j| Source::Layer(j)).collect(),
            _ if i == 0 => vec![Source::Image],
            _ => vec![Source::Layer(i - 1)],
        }
    }

    /// The layers as a graph: the image, each layer (`16 x 3x3 /1`: filters, kernel,
    /// stride), the classifier; an edge per input a layer reads. Dead layers say so.
    pub fn graph(&self) -> ArchGraph {
        let live = self.live();
        let n = self.layers.len();
        let mut labels = vec!["image".to_string()];
        labels.extend(self.layers.iter().zip(&live).map(|(l, &alive)| {
            let dead = if alive { "" } else { " (dead)" };
            format!("{} x {k}x{k} /{}{dead}", l.filters, l.stride, k = l.kernel)
        }));
        labels.push("classifier".to_string());
        let mut g = ArchGraph::new("layers", labels);
        for i in 0..n {
            for s in self.sources(i) {
                let from = match s {
                    Source::Image => 0,
                    Source::Layer(j) => j + 1,
                };
                g.edge(from, i + 1, "");
            }
        }
        g.edge(n, n + 1, "pool, linear");
        g
    }

    /// For each layer, whether some path leads from it to the last layer.
    pub fn live(&self) -> Vec<bool> {
        let n = self.layers.len();
        let mut live = vec![false; n];
        if n == 0 {
            return live;
        }
        live[n - 1] = true;
        for i in (0..n).rev() {
            if live[i] {
                for s in self.sources(i) {
                    if let Source::Layer(j) = s {
                        live[j] = true;
                    }
                }
            }
        }
        live
    }

    /// Channels, height and width of every layer's output for an input of `input`
    /// (`[channels, height, width]`), and of what each layer reads (after concatenation
    /// and pooling): `(reads, outputs)`.
    pub fn shapes(&self, input: [usize; 3]) -> (Vec<[usize; 3]>, Vec<[usize; 3]>) {
        let mut reads = Vec::with_capacity(self.layers.len());
        let mut outputs: Vec<[usize; 3]> = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            let shapes: Vec<[usize; 3]> = self
                .sources(i)
                .iter()
                .map(|s| match s {
                    Source::Image => input,
                    Source::Layer(j) => outputs.get(*j).copied().unwrap_or(input),
                })
                .collect();
            let channels = shapes.iter().map(|s| s[0]).sum();
            let height = shapes.iter().map(|s| s[1]).min().unwrap_or(input[1]);
            let width = shapes.iter().map(|s| s[2]).min().unwrap_or(input[2]);
            reads.push([channels, height, width]);
            let stride = layer.stride.max(1);
            outputs.push([
                layer.filters,
                height.div_ceil(stride),
                width.div_ceil(stride),
            ]);
        }
        (reads, outputs)
    }
}

impl fmt::Display for ChainArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.layers.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            write!(f, "f{}k{}s{}", l.filters, l.kernel, l.stride)?;
            if !l.inputs.is_empty() {
                let inputs: Vec<String> = l.inputs.iter().map(usize::to_string).collect();
                write!(f, "<{}", inputs.join(","))?;
            }
        }
        Ok(())
    }
}

/// Why a string is not a chain CNN: the layer and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ChainParseError(pub String);

impl FromStr for ChainArch {
    type Err = ChainParseError;

    /// Reads the string form; checks the structure (numbers, inputs that are earlier
    /// layers), not whether the values are choices of some space.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ChainParseError(
                "empty: expected layers like `f16k3s1|f32k3s2<0`".into(),
            ));
        }
        let layers = s
            .split('|')
            .enumerate()
            .map(|(i, part)| parse_layer(i, part.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ChainArch { layers })
    }
}

fn parse_layer(i: usize, part: &str) -> Result<ChainLayer, ChainParseError> {
    let err = |why: String| ChainParseError(format!("layer {i} `{part}`: {why}"));
    let shape = "expected `f<filters>k<kernel>s<stride>`, optionally followed by `<inputs`";
    let (spec, inputs) = match part.split_once('<') {
        Some((spec, inputs)) => (spec, Some(inputs)),
        None => (part, None),
    };
    let (filters, rest) = spec
        .strip_prefix('f')
        .and_then(|r| r.split_once('k'))
        .ok_or_else(|| err(shape.into()))?;
    let (kernel, stride) = rest.split_once('s').ok_or_else(|| err(shape.into()))?;
    let number = |what: &str, text: &str| {
        text.parse::<usize>()
            .map_err(|_| err(format!("{what} {text:?} is not a whole number; {shape}")))
    };
    let (filters, kernel, stride) = (
        number("filters", filters)?,
        number("kernel", kernel)?,
        number("stride", stride)?,
    );
    let inputs = match inputs {
        None => Vec::new(),
        Some(_) if i == 0 => return Err(err("layer 0 reads the image; it has no inputs".into())),
        Some(list) => {
            let inputs = list
                .split(',')
                .map(|j| number("input", j.trim()))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(&bad) = inputs.iter().find(|&&j| j >= i) {
                return Err(err(format!(
                    "input {bad} is not an earlier layer (0..={})",
                    i - 1
                )));
            }
            if inputs.windows(2).any(|w| w[0] >= w[1]) {
                return Err(err("inputs must be increasing, without repeats".into()));
            }
            inputs
        }
    };
    Ok(ChainLayer {
        filters,
        kernel,
        stride,
        inputs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_string_form_round_trips() {
        let s = "f16k3s1|f32k5s2|f32k3s1<0,1";
        let a: ChainArch = s.parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.layers[2].inputs, vec![0, 1]);
        assert_eq!(a.to_string(), s);
    }

    #[test]
    fn shapes_pool_to_the_smallest_input() {
        let a: ChainArch = "f4k3s2|f8k3s2|f2k1s1<0,1"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let (reads, outputs) = a.shapes([1, 7, 7]);
        assert_eq!(outputs[0], [4, 4, 4]);
        assert_eq!(outputs[1], [8, 2, 2]);
        assert_eq!(reads[2], [12, 2, 2]);
        assert_eq!(outputs[2], [2, 2, 2]);
    }

    #[test]
    fn dead_layers_are_found() {
        let a: ChainArch = "f4k3s1|f4k3s1|f4k3s1<0"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.live(), vec![true, false, true]);
    }
}
