//! Recurrent cells as ENAS and DARTS search them: the decoded architecture and its string
//! form. The space is [`crate::rnn_cell_space`], the cost model [`crate::rnn_cell_cost`].
//!
//! # The cell
//! One step reads the input `x_t` and the previous hidden state `h_{t-1}`. Node 0 mixes
//! them through DARTS's highway gate: `[c, h] = [x_t, h_{t-1}] W_0`,
//! `s_0 = h_{t-1} + sigmoid(c) * (tanh(h) - h_{t-1})`. Node `k >= 1` reads one earlier
//! node `s_j` and applies its activation `f` inside the same gate:
//! `[c, h] = s_j W_k`, `s_k = s_j + sigmoid(c) * (f(h) - s_j)`. The new hidden state
//! `h_t` is the mean of the loose ends, the nodes no later node reads (as in ENAS).
//!
//! Every node reaches the output (each is read by a later node or is a loose end), so the
//! nodes form a tree rooted at node 0. Cells whose trees are the same up to the order of
//! each node's children compute the same family of functions: their weights are per node
//! and the mean is symmetric. [`RnnCellArch::canonical`] writes that tree in one form.
//!
//! # String form
//! The nodes `1..=N` in order, each `activation<input`, joined by `|`:
//! `tanh<0|relu<1|relu<1|identity<2`.

use nas_core::drawing::ArchGraph;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The activation inside a node's gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellActivation {
    Tanh,
    Relu,
    Sigmoid,
    Identity,
}

impl CellActivation {
    pub const ALL: [CellActivation; 4] = [
        CellActivation::Tanh,
        CellActivation::Relu,
        CellActivation::Sigmoid,
        CellActivation::Identity,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CellActivation::Tanh => "tanh",
            CellActivation::Relu => "relu",
            CellActivation::Sigmoid => "sigmoid",
            CellActivation::Identity => "identity",
        }
    }

    /// The activation called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The activation applied to one value (the cell's forward pass on plain numbers, for
    /// tests and for reading a cell).
    pub fn apply(self, v: f64) -> f64 {
        match self {
            CellActivation::Tanh => v.tanh(),
            CellActivation::Relu => v.max(0.0),
            CellActivation::Sigmoid => 1.0 / (1.0 + (-v).exp()),
            CellActivation::Identity => v,
        }
    }
}

impl fmt::Display for CellActivation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Node `k >= 1` of a cell: the earlier node it reads and its activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RnnNode {
    /// An earlier node, `0..k`.
    pub input: usize,
    pub activation: CellActivation,
}

/// A decoded recurrent cell: nodes `1..=N` (`nodes[k - 1]` is node `k`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RnnCellArch {
    pub nodes: Vec<RnnNode>,
}

impl RnnCellArch {
    /// Nodes `1..=N` that no later node reads, in order: the hidden state is their mean.
    pub fn loose_ends(&self) -> Vec<usize> {
        let mut read = vec![false; self.nodes.len() + 1];
        for n in &self.nodes {
            read[n.input] = true;
        }
        (1..=self.nodes.len()).filter(|&k| !read[k]).collect()
    }

    /// The cell as a graph: the step's input and previous state, node 0 (the highway
    /// gate with tanh), each node on an edge from the node it reads labelled with its
    /// activation, and the loose ends averaged into the new state.
    pub fn graph(&self) -> ArchGraph {
        let n = self.nodes.len();
        let mut labels = vec!["x_t, h_{t-1}".to_string()];
        labels.extend((0..=n).map(|k| k.to_string()));
        labels.push("h_t".to_string());
        let mut g = ArchGraph::new("cell", labels);
        g.edge(0, 1, "tanh");
        for (k, node) in self.nodes.iter().enumerate() {
            g.edge(node.input + 1, k + 2, node.activation.name());
        }
        for k in self.loose_ends() {
            g.edge(k + 1, n + 2, "mean");
        }
        g
    }

    /// The cell's tree in one form for all cells equal up to the order of each node's
    /// children: `x(tanh(relu(),relu(identity())))`, children sorted.
    pub fn canonical(&self) -> String {
        fn node(arch: &RnnCellArch, k: usize) -> String {
            let mut children: Vec<String> = (1..=arch.nodes.len())
                .filter(|&c| arch.nodes[c - 1].input == k)
                .map(|c| node(arch, c))
                .collect();
            children.sort_unstable();
            let name = if k == 0 {
                "x"
            } else {
                arch.nodes[k - 1].activation.name()
            };
            format!("{name}({})", children.join(","))
        }
        node(self, 0)
    }
}

impl fmt::Display for RnnCellArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("{}<{}", n.activation, n.input))
            .collect();
        f.write_str(&nodes.join("|"))
    }
}

/// Why a string is not a recurrent cell: which node, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RnnCellParseError(pub String);

impl FromStr for RnnCellArch {
    type Err = RnnCellParseError;

    /// Reads the string form; checks the structure (each node reads an earlier one), not a
    /// space's choices.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: String| RnnCellParseError(why);
        let nodes = s
            .trim()
            .split('|')
            .enumerate()
            .map(|(i, part)| {
                let k = i + 1;
                let (activation, input) = part.trim().split_once('<').ok_or_else(|| {
                    err(format!(
                        "node {k} {part:?}: expected `activation<input`, e.g. `tanh<0`"
                    ))
                })?;
                let activation = CellActivation::from_name(activation.trim()).ok_or_else(|| {
                    let names: Vec<&str> = CellActivation::ALL.iter().map(|a| a.name()).collect();
                    err(format!(
                        "node {k}: unknown activation {activation:?}; activations are {}",
                        names.join(", ")
                    ))
                })?;
                let input = match input.trim().parse::<usize>() {
                    Ok(j) if j < k => j,
                    _ => {
                        return Err(err(format!(
                            "node {k}: input {input:?} is not an earlier node (0 to {})",
                            k - 1
                        )));
                    }
                };
                Ok(RnnNode { input, activation })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RnnCellArch { nodes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_string_form_round_trips_and_names_loose_ends() {
        let s = "tanh<0|relu<1|relu<1|identity<2";
        let a: RnnCellArch = s.parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.to_string(), s);
        assert_eq!(a.loose_ends(), vec![3, 4]);
        assert_eq!(a.canonical(), "x(tanh(relu(),relu(identity())))");
        let swapped: RnnCellArch = "tanh<0|relu<1|relu<1|identity<3".parse().unwrap();
        assert_eq!(swapped.canonical(), a.canonical());
    }

    #[test]
    fn malformed_strings_say_what_is_wrong() {
        for (input, needle) in [
            ("tanh<0|relu", "node 2 \"relu\": expected"),
            ("tanh<0|swish<1", "node 2: unknown activation"),
            (
                "tanh<1",
                "node 1: input \"1\" is not an earlier node (0 to 0)",
            ),
            ("tanh<0|relu<x", "node 2: input"),
        ] {
            let e = input
                .parse::<RnnCellArch>()
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{input:?}: {e}");
        }
    }
}
