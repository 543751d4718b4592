//! The DARTS cell (Liu et al. 2019, the NASNet-style space): its ops, its decoded form, and
//! the original code's genotype string.
//!
//! A network stacks two kinds of cell, normal and reduction. A cell has two input nodes
//! (0 and 1: the outputs of the two cells before it) and four intermediate nodes 2..=5;
//! each intermediate node sums two edges, each an op applied to an earlier node, and the
//! cell's output concatenates nodes 2..=5. The string form is the one the original code
//! prints and its published genotypes use:
//!
//! `Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])`
//!
//! where each node's two edges are consecutive `(op, input node)` pairs.

use nas_core::SpaceError;
use nas_core::drawing::ArchGraph;
use std::fmt;

/// The candidate ops of the search (`PRIMITIVES` in the original code), in its order: the
/// relaxed supernet's columns. `none` is a candidate only while searching; a derived cell
/// never holds it.
pub const PRIMITIVES: [&str; 8] = [
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
];

/// Index of `none` in [`PRIMITIVES`].
pub const NONE: usize = 0;

/// Intermediate nodes per cell.
pub const STEPS: usize = 4;

/// Edges of a derived cell: two per intermediate node.
pub const CELL_EDGES: usize = 2 * STEPS;

/// Edges of the search cell: every earlier node into every intermediate node, 2 + 3 + 4 + 5.
pub const SEARCH_EDGES: usize = 14;

/// An op of a derived cell, by its index in [`PRIMITIVES`] (never [`NONE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Op(pub usize);

impl Op {
    pub const MAX_POOL_3X3: Op = Op(1);
    pub const AVG_POOL_3X3: Op = Op(2);
    pub const SKIP_CONNECT: Op = Op(3);
    pub const SEP_CONV_3X3: Op = Op(4);
    pub const SEP_CONV_5X5: Op = Op(5);
    pub const DIL_CONV_3X3: Op = Op(6);
    pub const DIL_CONV_5X5: Op = Op(7);

    pub fn name(self) -> &'static str {
        PRIMITIVES.get(self.0).copied().unwrap_or("?")
    }

    /// Kernel size of a convolution op, `None` for pools and skip.
    pub fn kernel(self) -> Option<usize> {
        match self {
            Op::SEP_CONV_3X3 | Op::DIL_CONV_3X3 => Some(3),
            Op::SEP_CONV_5X5 | Op::DIL_CONV_5X5 => Some(5),
            _ => None,
        }
    }

    /// Whether the op has no weights (pools, and skip at stride 1): the collapse measure.
    pub fn parameter_free(self) -> bool {
        self.kernel().is_none()
    }
}

/// One edge of a derived cell: `op` applied to node `input`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellEdge {
    pub op: Op,
    pub input: usize,
}

/// A derived cell: node `2 + k` sums `edges[2k]` and `edges[2k + 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DartsCell {
    pub edges: [CellEdge; CELL_EDGES],
}

impl DartsCell {
    /// The same cell with each node's two edges in sorted order: the sum does not care.
    pub fn canonical(&self) -> DartsCell {
        let mut edges = self.edges;
        for pair in edges.chunks_mut(2) {
            pair.sort();
        }
        DartsCell { edges }
    }

    /// The cell as the paper draws it: the two inputs `c_{k-2}` and `c_{k-1}`, the four
    /// intermediate nodes with their two operations each, and their concatenation into
    /// the output `c_{k}`.
    pub fn graph(&self, title: &str) -> ArchGraph {
        let mut labels = vec!["c_{k-2}".to_string(), "c_{k-1}".to_string()];
        labels.extend((0..STEPS).map(|k| k.to_string()));
        labels.push("c_{k}".to_string());
        let mut g = ArchGraph::new(title, labels);
        for (e, edge) in self.edges.iter().enumerate() {
            g.edge(edge.input, 2 + e / 2, edge.op.name());
        }
        for node in 2..2 + STEPS {
            g.edge(node, 2 + STEPS, "");
        }
        g
    }

    fn render(&self) -> String {
        let pairs: Vec<String> = self
            .edges
            .iter()
            .map(|e| format!("('{}', {})", e.op.name(), e.input))
            .collect();
        format!("[{}]", pairs.join(", "))
    }
}

/// A decoded genotype of the DARTS space: the normal and the reduction cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DartsArch {
    pub normal: DartsCell,
    pub reduce: DartsCell,
}

impl fmt::Display for DartsArch {
    /// The original code's form, with the concatenated nodes written as a list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Genotype(normal={}, normal_concat=[2, 3, 4, 5], reduce={}, reduce_concat=[2, 3, 4, 5])",
            self.normal.render(),
            self.reduce.render()
        )
    }
}

impl DartsArch {
    /// Reads the original code's form. Quotes may be single or double, the concatenation
    /// a list or `range(2, 6)`, and the four fields in any order.
    ///
    /// # Errors
    /// Names the field, node or edge that is wrong and why.
    pub fn parse(text: &str) -> Result<DartsArch, SpaceError> {
        let err = |reason: String| SpaceError::Parse {
            input: text.to_string(),
            reason,
        };
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let body = compact
            .strip_prefix("Genotype(")
            .and_then(|b| b.strip_suffix(')'))
            .ok_or_else(|| err("a DARTS genotype reads `Genotype(normal=[...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])`".into()))?;
        let (mut normal, mut reduce) = (None, None);
        let (mut normal_concat, mut reduce_concat) = (false, false);
        for field in split_top_level(body).map_err(&err)? {
            let (name, value) = field
                .split_once('=')
                .ok_or_else(|| err(format!("field {field:?} is not `name=value`")))?;
            match name {
                "normal" => {
                    normal = Some(parse_cell(value).map_err(|e| err(format!("normal: {e}")))?)
                }
                "reduce" => {
                    reduce = Some(parse_cell(value).map_err(|e| err(format!("reduce: {e}")))?)
                }
                "normal_concat" => {
                    check_concat(value).map_err(|e| err(format!("normal_concat: {e}")))?;
                    normal_concat = true;
                }
                "reduce_concat" => {
                    check_concat(value).map_err(|e| err(format!("reduce_concat: {e}")))?;
                    reduce_concat = true;
                }
                other => {
                    return Err(err(format!(
                        "unknown field {other:?}; the fields are normal, normal_concat, reduce, reduce_concat"
                    )));
                }
            }
        }
        let missing = |name: &str| err(format!("field {name} is missing"));
        if !normal_concat {
            return Err(missing("normal_concat"));
        }
        if !reduce_concat {
            return Err(missing("reduce_concat"));
        }
        Ok(DartsArch {
            normal: normal.ok_or_else(|| missing("normal"))?,
            reduce: reduce.ok_or_else(|| missing("reduce"))?,
        })
    }
}

/// Splits `s` at the commas outside brackets, parentheses and quotes.
fn split_top_level(s: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unbalanced {c:?} at character {i}"));
                }
            }
            (None, ',') if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || quote.is_some() {
        return Err("unbalanced brackets or quotes".into());
    }
    if start < s.len() {
        parts.push(&s[start..]);
    }
    Ok(parts)
}

/// This space always concatenates the four intermediate nodes.
fn check_concat(value: &str) -> Result<(), String> {
    if value == "[2,3,4,5]" || value == "range(2,6)" {
        Ok(())
    } else {
        Err(format!(
            "{value} is not [2, 3, 4, 5] or range(2, 6); this space concatenates the four intermediate nodes"
        ))
    }
}

fn parse_cell(value: &str) -> Result<DartsCell, String> {
    let list = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| format!("{value} is not a list of (op, input) pairs"))?;
    let pairs = split_top_level(list)?;
    if pairs.len() != CELL_EDGES {
        return Err(format!(
            "{} edges, expected {CELL_EDGES} (two for each of the {STEPS} intermediate nodes)",
            pairs.len()
        ));
    }
    let mut edges = [CellEdge {
        op: Op::SKIP_CONNECT,
        input: 0,
    }; CELL_EDGES];
    for (k, (slot, pair)) in edges.iter_mut().zip(pairs).enumerate() {
        let node = 2 + k / 2;
        let inner = pair
            .strip_prefix('(')
            .and_then(|p| p.strip_suffix(')'))
            .ok_or_else(|| format!("edge {k} {pair} is not ('op', input)"))?;
        let (op, input) = inner
            .split_once(',')
            .ok_or_else(|| format!("edge {k} {pair} is not ('op', input)"))?;
        let op = op.trim_matches(|c| c == '\'' || c == '"');
        let index = PRIMITIVES.iter().position(|p| *p == op).ok_or_else(|| {
            format!(
                "edge {k}: unknown op {op:?}; the ops are {}",
                PRIMITIVES[1..].join(", ")
            )
        })?;
        if index == NONE {
            return Err(format!(
                "edge {k}: `none` is not an op of a derived cell (the derivation leaves it out)"
            ));
        }
        let input: usize = input
            .parse()
            .map_err(|_| format!("edge {k}: input {input:?} is not a node number"))?;
        if input >= node {
            return Err(format!(
                "edge {k}: node {node} cannot read node {input}; its inputs are 0..={}",
                node - 1
            ));
        }
        *slot = CellEdge {
            op: Op(index),
            input,
        };
    }
    Ok(DartsCell { edges })
}

/// The published DARTS (second order) cell, `DARTS_V2` in the original code.
pub const DARTS_V2: &str = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_genotype_round_trips() {
        let arch = DartsArch::parse(DARTS_V2).unwrap();
        assert_eq!(arch.to_string(), DARTS_V2);
        assert_eq!(arch.normal.edges[7].op, Op::DIL_CONV_3X3);
        assert_eq!(arch.normal.edges[7].input, 2);
        let ranged = DARTS_V2
            .replace("[2, 3, 4, 5]", "range(2, 6)")
            .replace('\'', "\"");
        assert_eq!(DartsArch::parse(&ranged).unwrap(), arch);
    }

    #[test]
    fn malformed_genotypes_say_what_is_wrong() {
        for (bad, needle) in [
            ("normal=[]", "Genotype("),
            (
                &DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"),
                "normal: edge 7: node 5 cannot read node 5",
            ),
            (
                &DARTS_V2.replace("('dil_conv_3x3', 2)", "('conv_7x1_1x7', 2)"),
                "unknown op",
            ),
            (
                &DARTS_V2.replacen("('max_pool_3x3', 0)", "('none', 0)", 1),
                "none",
            ),
            (
                &DARTS_V2.replacen("reduce_concat=[2, 3, 4, 5]", "reduce_concat=[4, 5]", 1),
                "reduce_concat",
            ),
            (
                &DARTS_V2.replacen("('sep_conv_3x3', 0), ", "", 1),
                "7 edges, expected 8",
            ),
            (&DARTS_V2.replacen("normal=", "norm=", 1), "unknown field"),
            (&DARTS_V2.replacen(", 1)", ", x)", 1), "not a node number"),
            (&DARTS_V2.replacen("[('sep", "[(('sep", 1), "unbalanced"),
        ] {
            let e = DartsArch::parse(bad).unwrap_err().to_string();
            assert!(e.contains(needle), "{needle}: {e}");
        }
    }
}
