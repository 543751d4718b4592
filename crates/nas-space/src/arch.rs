//! One decoded architecture of any of this crate's spaces, for code that must handle them
//! all (the training evaluator, cost reports) while holding only a `dyn SearchSpace`.
//!
//! A `dyn SearchSpace` cannot be downcast, so [`Architecture::decode`] dispatches on the
//! space's name and reads the genotype through the space's own string form, which names
//! every value (`f16k3s1|...`, `64-32:relu:0.1`): the architecture is then known without
//! the space's config.

use crate::chain_cnn::ChainArch;
use crate::mlp::MlpArch;
use crate::nb201_cost::{Cost, Nb201NetConfig};
use crate::{Nb201Space, chain_cnn_cost, chain_cnn_space, mlp_cost, mlp_space, nb201_cost};
use nas_core::{Genotype, SearchSpace, SpaceError};

/// The spaces [`Architecture::decode`] knows, by registered name.
pub const SPACES: [&str; 3] = ["nb201", chain_cnn_space::NAME, mlp_space::NAME];

/// A decoded architecture.
#[derive(Debug, Clone, PartialEq)]
pub enum Architecture {
    /// An NB201 cell: op indices in genotype order.
    Nb201([u32; 6]),
    ChainCnn(ChainArch),
    Mlp(MlpArch),
    /// LeNet-5, the hand-designed baseline (no space searches it; see [`crate::lenet`]).
    LeNet5,
}

impl Architecture {
    /// Whether `decode` knows the space called `name`.
    pub fn supports(name: &str) -> bool {
        SPACES.contains(&name)
    }

    /// The architecture of genotype `g` of `space`.
    ///
    /// # Errors
    /// A space this crate does not know, or a genotype that is not of the space.
    pub fn decode(space: &dyn SearchSpace, g: &Genotype) -> Result<Self, SpaceError> {
        space.validate(g)?;
        let parse_err = |reason: String| SpaceError::Parse {
            input: space.render(g),
            reason,
        };
        match space.name() {
            "nb201" => Nb201Space::new().ops(g).map(Architecture::Nb201),
            chain_cnn_space::NAME => space
                .render(g)
                .parse()
                .map(Architecture::ChainCnn)
                .map_err(|e: crate::chain_cnn::ChainParseError| parse_err(e.0)),
            mlp_space::NAME => space
                .render(g)
                .parse()
                .map(Architecture::Mlp)
                .map_err(|e: crate::mlp::MlpParseError| parse_err(e.0)),
            other => Err(parse_err(format!(
                "no network is known for space `{other}`; known: {}",
                SPACES.join(", ")
            ))),
        }
    }

    /// Parameters and FLOPs. `net` gives every network its input shape and classes; its
    /// `channels` and `cells_per_stage` shape NB201 networks only.
    pub fn cost(&self, net: &Nb201NetConfig) -> Cost {
        match self {
            Architecture::Nb201(ops) => nb201_cost::cost(ops, net),
            Architecture::ChainCnn(a) => chain_cnn_cost::cost(a, net.input, net.classes),
            Architecture::Mlp(a) => mlp_cost::cost(a, net.input, net.classes),
            Architecture::LeNet5 => crate::lenet::cost(net.input, net.classes),
        }
    }
}
