//! The chain-structured CNN space (registered `chain-cnn`): the decisions behind
//! [`ChainArch`], its config, and the canonical form behind the fingerprint.
//!
//! Decisions, layer by layer: `layer i filters`, `layer i kernel`, `layer i stride`
//! (categorical over the config's choices), then for every earlier layer `j < i` a
//! yes/no `layer i input j`. So a space of `L` layers has `3L + L(L-1)/2` decisions.

use crate::chain_cnn::{ChainArch, ChainLayer, Source};
use nas_core::registry::{ConfigError, SpaceConfig};
use nas_core::space::StableHasher;
use nas_core::{Decision, Fingerprint, Genotype, SearchSpace, SpaceError, Value};
use serde::{Deserialize, Serialize};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Name under which the space is registered.
pub const NAME: &str = "chain-cnn";

/// Config of the `chain-cnn` space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainCnnSpaceConfig {
    /// Convolution layers in the chain.
    pub layers: usize,
    /// Filter counts a layer may choose.
    pub filters: Vec<usize>,
    /// Kernel sizes a layer may choose: odd, so that padding `k / 2` keeps sizes simple.
    pub kernels: Vec<usize>,
    /// Strides a layer may choose.
    pub strides: Vec<usize>,
}

impl Default for ChainCnnSpaceConfig {
    /// Six layers, small enough to train on the CPU; Zoph & Le used 15 layers, filters
    /// 24-64 and kernels 1-7.
    fn default() -> Self {
        ChainCnnSpaceConfig {
            layers: 6,
            filters: vec![16, 32, 64],
            kernels: vec![1, 3, 5],
            strides: vec![1, 2],
        }
    }
}

/// The most layers a config may ask for: skip decisions grow with the square.
pub const MAX_LAYERS: usize = 32;

impl ChainCnnSpaceConfig {
    /// # Errors
    /// The first field out of range, by name.
    pub fn check(&self) -> Result<(), ConfigError> {
        let field = |f: &str, why: String| Err(ConfigError::field(NAME, f, why));
        if !(1..=MAX_LAYERS).contains(&self.layers) {
            return field("layers", format!("must be in 1..={MAX_LAYERS}"));
        }
        for (name, choices) in [
            ("filters", &self.filters),
            ("kernels", &self.kernels),
            ("strides", &self.strides),
        ] {
            if choices.is_empty() {
                return field(name, "needs at least one choice".into());
            }
            if choices.contains(&0) {
                return field(name, "choices must be at least 1".into());
            }
            let mut sorted = choices.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted.len() != choices.len() {
                return field(name, format!("repeated choice in {choices:?}"));
            }
        }
        if let Some(k) = self.kernels.iter().find(|k| *k % 2 == 0) {
            return field(
                "kernels",
                format!("kernel {k} is even; kernels must be odd"),
            );
        }
        Ok(())
    }
}

impl SpaceConfig for ChainCnnSpaceConfig {
    fn build(&self) -> Result<Arc<dyn SearchSpace>, ConfigError> {
        Ok(Arc::new(ChainCnnSpace::new(self.clone())?))
    }
}

nas_core::register!(
    dyn SpaceConfig,
    ChainCnnSpaceConfig,
    "chain-cnn",
    "Chain-structured CNNs (Zoph & Le 2017): per layer filters, kernel, stride and skip inputs."
);

/// A live layer in [`ChainCnnSpace::canonical`]: filters, kernel, stride and the sources
/// read (`u64::MAX` for the image), as fixed-width integers so hashes match on every
/// platform.
pub type CanonicalLayer = (u64, u64, u64, Vec<u64>);

/// The chain-structured CNN space.
#[derive(Debug, Clone)]
pub struct ChainCnnSpace {
    config: ChainCnnSpaceConfig,
    decisions: Vec<Decision>,
}

fn names(choices: &[usize]) -> Vec<String> {
    choices.iter().map(usize::to_string).collect()
}

fn categorical(name: String, choices: &[usize]) -> Decision {
    let names = names(choices);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    Decision::categorical(name, &refs)
}

impl ChainCnnSpace {
    /// # Errors
    /// A config that fails [`ChainCnnSpaceConfig::check`].
    pub fn new(config: ChainCnnSpaceConfig) -> Result<Self, ConfigError> {
        config.check()?;
        let mut decisions = Vec::new();
        for i in 0..config.layers {
            decisions.push(categorical(format!("layer {i} filters"), &config.filters));
            decisions.push(categorical(format!("layer {i} kernel"), &config.kernels));
            decisions.push(categorical(format!("layer {i} stride"), &config.strides));
            for j in 0..i {
                decisions.push(Decision::categorical(
                    format!("layer {i} input {j}"),
                    &["no", "yes"],
                ));
            }
        }
        Ok(ChainCnnSpace { config, decisions })
    }

    pub fn config(&self) -> &ChainCnnSpaceConfig {
        &self.config
    }

    /// The architecture of a valid genotype.
    ///
    /// # Errors
    /// A genotype that is not of this space.
    pub fn decode(&self, g: &Genotype) -> Result<ChainArch, SpaceError> {
        self.validate(g)?;
        let mut values = g.0.iter().map(|v| v.as_index().unwrap_or(0) as usize);
        let mut next = || values.next().unwrap_or(0);
        let c = &self.config;
        let mut layers = Vec::with_capacity(c.layers);
        for i in 0..c.layers {
            let filters = c.filters[next()];
            let kernel = c.kernels[next()];
            let stride = c.strides[next()];
            let inputs = (0..i).filter(|_| next() == 1).collect();
            layers.push(ChainLayer {
                filters,
                kernel,
                stride,
                inputs,
            });
        }
        Ok(ChainArch { layers })
    }

    /// The genotype of an architecture.
    ///
    /// # Errors
    /// A layer count or a value that is not one of this space's choices, naming the layer.
    pub fn encode_arch(&self, arch: &ChainArch) -> Result<Genotype, String> {
        let c = &self.config;
        if arch.layers.len() != c.layers {
            return Err(format!(
                "{} layers, the space has {}",
                arch.layers.len(),
                c.layers
            ));
        }
        let mut values = Vec::with_capacity(self.decisions.len());
        for (i, l) in arch.layers.iter().enumerate() {
            for (what, value, choices) in [
                ("filters", l.filters, &c.filters),
                ("kernel", l.kernel, &c.kernels),
                ("stride", l.stride, &c.strides),
            ] {
                let index = choices.iter().position(|&x| x == value).ok_or_else(|| {
                    format!("layer {i}: {what} {value} is not one of {choices:?}")
                })?;
                values.push(Value::Index(index as u32));
            }
            for j in 0..i {
                values.push(Value::Index(u32::from(l.inputs.contains(&j))));
            }
        }
        Ok(Genotype(values))
    }

    /// What the network computes, without what cannot change it: each live layer with the
    /// sources it actually reads (so "no inputs" and "only the previous layer" agree), and
    /// `None` for dead layers.
    pub fn canonical(arch: &ChainArch) -> Vec<Option<CanonicalLayer>> {
        let live = arch.live();
        arch.layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                live[i].then(|| {
                    let sources = arch
                        .sources(i)
                        .iter()
                        .map(|s| match s {
                            Source::Image => u64::MAX,
                            Source::Layer(j) => *j as u64,
                        })
                        .collect();
                    (l.filters as u64, l.kernel as u64, l.stride as u64, sources)
                })
            })
            .collect()
    }
}

impl SearchSpace for ChainCnnSpace {
    fn name(&self) -> &str {
        NAME
    }

    fn decisions(&self) -> &[Decision] {
        &self.decisions
    }

    /// Hashes [`ChainCnnSpace::canonical`]: equal for chains that differ only in dead
    /// layers or in spelling out the previous layer as the only input.
    fn fingerprint(&self, g: &Genotype) -> Fingerprint {
        let mut h = StableHasher::default();
        match self.decode(g) {
            Ok(arch) => Self::canonical(&arch).hash(&mut h),
            Err(_) => g.hash(&mut h),
        }
        Fingerprint(h.finish())
    }

    /// The string form of [`ChainArch`], e.g. `f16k3s1|f32k5s2|f32k3s1<0,1`.
    fn render(&self, g: &Genotype) -> String {
        match self.decode(g) {
            Ok(arch) => arch.to_string(),
            Err(e) => format!("<not a chain-cnn genotype: {e}>"),
        }
    }

    fn draw(&self, g: &Genotype) -> Vec<nas_core::drawing::ArchGraph> {
        self.decode(g)
            .map(|arch| vec![arch.graph()])
            .unwrap_or_default()
    }

    fn parse(&self, s: &str) -> Result<Genotype, SpaceError> {
        let err = |reason: String| SpaceError::Parse {
            input: s.to_string(),
            reason,
        };
        let arch: ChainArch = s
            .parse()
            .map_err(|e: crate::chain_cnn::ChainParseError| err(e.0))?;
        self.encode_arch(&arch).map_err(err)
    }
}
