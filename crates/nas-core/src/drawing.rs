//! An architecture as graphs for people to look at: a cell as a DAG with an operation
//! on each edge, a chain network as its layers in order. A space says what its
//! genotypes look like ([`SearchSpace::draw`](crate::SearchSpace::draw)); the report
//! draws the graphs as SVG and `nas export` writes them as Graphviz DOT.
//!
//! The graphs are plain data so that a space needs no drawing code: it names its nodes
//! and labels its edges, and the layout is the reader's business.

use serde::Serialize;
use std::fmt::Write as _;

/// One graph of an architecture: a cell (NB201 has one, DARTS a normal and a reduction
/// cell) or a whole chain network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchGraph {
    /// What the graph is (`cell`, `normal cell`, `layers`).
    pub title: String,
    /// The nodes, in an order in which every edge goes forward (`from < to`).
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

/// A node: a feature map, a layer's output, a cell's input or output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphNode {
    pub label: String,
}

/// An edge from node `from` to node `to` (indices into the graph's nodes), labelled with
/// what it computes (an operation; empty for plain data flow).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GraphEdge {
    pub from: usize,
    pub to: usize,
    pub label: String,
}

impl ArchGraph {
    /// A graph with nodes labelled `labels` and no edges yet.
    pub fn new(title: &str, labels: impl IntoIterator<Item = String>) -> Self {
        ArchGraph {
            title: title.to_string(),
            nodes: labels
                .into_iter()
                .map(|label| GraphNode { label })
                .collect(),
            edges: Vec::new(),
        }
    }

    /// Adds the edge `from -> to` labelled `label`.
    pub fn edge(&mut self, from: usize, to: usize, label: &str) {
        self.edges.push(GraphEdge {
            from,
            to,
            label: label.to_string(),
        });
    }

    /// Whether every edge joins existing nodes and goes forward, as drawings assume.
    pub fn is_forward(&self) -> bool {
        self.edges
            .iter()
            .all(|e| e.from < e.to && e.to < self.nodes.len())
    }
}

/// `text` as a DOT string literal.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The graphs as one Graphviz `digraph`, each graph a cluster, drawn left to right
/// (`dot -Tsvg arch.dot > arch.svg`).
pub fn to_dot(name: &str, graphs: &[ArchGraph]) -> String {
    let mut out = format!(
        "digraph {} {{\n  rankdir=LR;\n  node [shape=box, style=rounded];\n",
        quoted(name)
    );
    for (g, graph) in graphs.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{g} {{\n    label={};",
            quoted(&graph.title)
        );
        for (n, node) in graph.nodes.iter().enumerate() {
            let _ = writeln!(out, "    g{g}n{n} [label={}];", quoted(&node.label));
        }
        for e in &graph.edges {
            let _ = writeln!(
                out,
                "    g{g}n{} -> g{g}n{} [label={}];",
                e.from,
                e.to,
                quoted(&e.label)
            );
        }
        out.push_str("  }\n");
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_names_every_node_and_edge_and_escapes_quotes() {
        let mut g = ArchGraph::new("cell", ["in".to_string(), "out \"1\"".to_string()]);
        g.edge(0, 1, "conv 3x3");
        assert!(g.is_forward());
        let dot = to_dot("best", &[g]);
        assert!(dot.starts_with("digraph \"best\" {"));
        assert!(dot.contains("g0n1 [label=\"out \\\"1\\\"\"];"));
        assert!(dot.contains("g0n0 -> g0n1 [label=\"conv 3x3\"];"));
        assert!(dot.trim_end().ends_with('}'));
    }

    #[test]
    fn a_backward_edge_is_not_forward() {
        let mut g = ArchGraph::new("cell", ["a".to_string(), "b".to_string()]);
        g.edge(1, 0, "x");
        assert!(!g.is_forward());
    }
}
