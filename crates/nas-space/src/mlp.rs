//! Multilayer perceptron architectures: hidden layer widths, one activation, one dropout
//! rate. This module is the decoded architecture and its string form; the space is
//! [`crate::mlp_space`], the cost model [`crate::mlp_cost`].
//!
//! The network flattens the image, then each hidden layer is linear, activation, dropout,
//! and a linear classifier follows.
//!
//! # String form
//! Widths joined by `-`, the activation, the dropout rate, separated by `:`:
//! `64-32:relu:0.1`.

use nas_core::drawing::ArchGraph;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An activation burn 0.22 offers as a tensor function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    Relu,
    Tanh,
    Gelu,
    Sigmoid,
}

impl Activation {
    pub const ALL: [Activation; 4] = [
        Activation::Relu,
        Activation::Tanh,
        Activation::Gelu,
        Activation::Sigmoid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
            Activation::Sigmoid => "sigmoid",
        }
    }

    /// The activation called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded MLP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpArch {
    /// Widths of the hidden layers, input side first; at least one.
    pub widths: Vec<usize>,
    pub activation: Activation,
    /// Probability of zeroing a hidden unit during training, in `[0, 1)`.
    pub dropout: f64,
}

impl MlpArch {
    /// The layers as a graph: the input, each hidden layer's width, the classes; each
    /// edge a linear map with the activation (and dropout) after it.
    pub fn graph(&self) -> ArchGraph {
        let mut labels = vec!["input".to_string()];
        labels.extend(self.widths.iter().map(|w| format!("{w} units")));
        labels.push("classes".to_string());
        let mut g = ArchGraph::new("layers", labels);
        let hidden = if self.dropout > 0.0 {
            format!("linear, {}, dropout {}", self.activation, self.dropout)
        } else {
            format!("linear, {}", self.activation)
        };
        for i in 0..self.widths.len() {
            g.edge(i, i + 1, &hidden);
        }
        g.edge(self.widths.len(), self.widths.len() + 1, "linear");
        g
    }
}

impl fmt::Display for MlpArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let widths: Vec<String> = self.widths.iter().map(usize::to_string).collect();
        write!(
            f,
            "{}:{}:{}",
            widths.join("-"),
            self.activation,
            self.dropout
        )
    }
}

/// Why a string is not an MLP: which part, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MlpParseError(pub String);

impl FromStr for MlpArch {
    type Err = MlpParseError;

    /// Reads the string form; checks the structure, not a space's choices.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why: String| MlpParseError(why);
        let parts: Vec<&str> = s.trim().split(':').map(str::trim).collect();
        let [widths, activation, dropout] = parts[..] else {
            return Err(err(format!(
                "expected `widths:activation:dropout` (e.g. `64-32:relu:0.1`), found {} part(s)",
                parts.len()
            )));
        };
        let widths = widths
            .split('-')
            .enumerate()
            .map(|(i, w)| match w.trim().parse::<usize>() {
                Ok(w) if w > 0 => Ok(w),
                _ => Err(err(format!(
                    "width of layer {i} {w:?} is not a positive whole number"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let activation = Activation::from_name(activation).ok_or_else(|| {
            let names: Vec<&str> = Activation::ALL.iter().map(|a| a.name()).collect();
            err(format!(
                "unknown activation {activation:?}; activations are {}",
                names.join(", ")
            ))
        })?;
        let dropout = match dropout.parse::<f64>() {
            Ok(p) if (0.0..1.0).contains(&p) => p,
            _ => {
                return Err(err(format!(
                    "dropout {dropout:?} is not a number in [0, 1)"
                )));
            }
        };
        Ok(MlpArch {
            widths,
            activation,
            dropout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_string_form_round_trips() {
        for s in ["64-32:relu:0.1", "8:sigmoid:0", "16-16-16:gelu:0.25"] {
            let a: MlpArch = s.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn malformed_strings_say_what_is_wrong() {
        for (input, needle) in [
            ("64-32:relu", "found 2 part"),
            ("64-x:relu:0", "layer 1"),
            ("64:swish:0", "unknown activation"),
            ("64:relu:1.5", "dropout"),
        ] {
            let e = input
                .parse::<MlpArch>()
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{input:?}: {e}");
        }
    }
}
