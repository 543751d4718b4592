//! The `rnn-cell` space's networks, registered with nas-nn: the searched cell in a text
//! classifier ([`RnnCellNet`]), and the supernet of every cell ([`RnnCellSupernet`]) for
//! ENAS and for DARTS and GDAS; `width` is the hidden size (and the embedding's), `depth`
//! is not used.

use super::networks::parse;
use super::rnn_cell_supernet::{RnnCellSupernet, edge_count, edge_row};
use super::text_baselines::{GatedNet, Recurrence};
use super::{RnnCellNet, counts};
use crate::rnn_cell::{RnnCellArch, RnnCellParseError, RnnNode};
use crate::rnn_cell_cost::{TextNetConfig, cell_per_token, text_net};
use crate::rnn_cell_space::{self, RnnCellSpace, RnnCellSpaceConfig};
use burn::tensor::{Device, Tensor};
use nas_core::{Cost, Genotype, SearchSpace, SpaceError};
use nas_nn::{
    Classifier, Counts, NetSpec, NetworkBuilder, RelaxedBuilder, RelaxedSupernet, Supernet,
    SupernetBuilder, Task,
};

impl Classifier for RnnCellNet {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        RnnCellNet::forward(self, x)
    }
    fn trainable_params(&self) -> usize {
        RnnCellNet::trainable_params(self)
    }
}

impl<R: Recurrence> Classifier for GatedNet<R> {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        GatedNet::forward(self, x)
    }
    fn trainable_params(&self) -> usize {
        GatedNet::trainable_params(self)
    }
}

/// Refuses images: every text network reads rows of word ids.
///
/// # Errors
/// The reason, naming the text data sets.
pub fn text_check_task(task: &Task) -> Result<(), String> {
    if !task.is_text() {
        return Err(
            "this network reads sentences (rows of word ids) and the data are images; train it on a text data set (`--dataset sentiment`, or `text-csv` with a `csv` file)"
                .into(),
        );
    }
    if task.input[2] == 0 {
        return Err("sentences of 0 words: `max_words` must be at least 1".into());
    }
    Ok(())
}

/// The shape of a text network for `spec`.
pub fn text_net_config(spec: &NetSpec) -> TextNetConfig {
    TextNetConfig {
        hidden: spec.width,
        vocabulary: spec.task.vocabulary,
        max_words: spec.task.input[2],
        classes: spec.task.classes,
    }
}

/// The `rnn-cell` space's network.
#[derive(Debug)]
pub struct RnnCellNetwork;

impl NetworkBuilder for RnnCellNetwork {
    type Arch = RnnCellArch;
    type Net = RnnCellNet;

    fn decode(&self, space: &dyn SearchSpace, g: &Genotype) -> Result<RnnCellArch, SpaceError> {
        parse(space, g, |e: RnnCellParseError| e.0)
    }

    fn check_task(&self, task: &Task) -> Result<(), String> {
        text_check_task(task)
    }

    fn counts(&self, a: &RnnCellArch, spec: &NetSpec) -> Counts {
        counts::rnn_cell(a, &text_net_config(spec))
    }

    fn cost(&self, a: &RnnCellArch, spec: &NetSpec) -> Cost {
        text_net(cell_per_token(a, spec.width), &text_net_config(spec))
    }

    fn build(&self, a: &RnnCellArch, spec: &NetSpec, device: &Device, seed: u64) -> RnnCellNet {
        let t = &spec.task;
        RnnCellNet::new(a, spec.width, t.vocabulary, t.classes, device, seed)
    }
}

nas_nn::register_network!(rnn_cell_space::NAME, RnnCellNetwork);

impl Supernet for RnnCellSupernet {
    type Arch = RnnCellArch;
    fn forward(&self, x: Tensor<4>, arch: &RnnCellArch) -> Tensor<2> {
        RnnCellSupernet::forward(self, x, arch)
    }
    fn trainable_params(&self) -> usize {
        RnnCellSupernet::trainable_params(self)
    }
}

impl RelaxedSupernet for RnnCellSupernet {
    fn forward_mixed(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<2> {
        RnnCellSupernet::forward_mixed(self, x, weights)
    }
    fn forward_sampled(&self, x: Tensor<4>, weights: &Tensor<2>, choices: &[usize]) -> Tensor<2> {
        RnnCellSupernet::forward_sampled(self, x, weights, choices)
    }
    fn trainable_params(&self) -> usize {
        RnnCellSupernet::trainable_params(self)
    }
}

/// The space's config (its nodes and activations size the supernet); the default for a
/// space of another type, which the registry never hands over.
fn cell_config(space: &dyn SearchSpace) -> RnnCellSpaceConfig {
    space
        .downcast_ref::<RnnCellSpace>()
        .map(|s| s.config().clone())
        .unwrap_or_default()
}

fn build_supernet(
    space: &dyn SearchSpace,
    spec: &NetSpec,
    device: &Device,
    seed: u64,
) -> RnnCellSupernet {
    let c = cell_config(space);
    let t = &spec.task;
    RnnCellSupernet::new(
        c.nodes,
        &c.activations,
        spec.width,
        [t.vocabulary, t.classes],
        device,
        seed,
    )
}

/// The `rnn-cell` supernet for ENAS: a child runs its own edges.
#[derive(Debug)]
pub struct RnnCellSharedWeights;

impl SupernetBuilder for RnnCellSharedWeights {
    type Net = RnnCellSupernet;

    fn decode(&self, space: &dyn SearchSpace, g: &Genotype) -> Result<RnnCellArch, SpaceError> {
        RnnCellNetwork.decode(space, g)
    }

    fn check_task(&self, task: &Task) -> Result<(), String> {
        text_check_task(task)
    }

    fn build(
        &self,
        space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
    ) -> RnnCellSupernet {
        build_supernet(space, spec, device, seed)
    }
}

nas_nn::register_supernet!(rnn_cell_space::NAME, RnnCellSharedWeights);

/// The `rnn-cell` supernet relaxed (DARTS, GDAS): a row per edge, a column per activation.
#[derive(Debug)]
pub struct RnnCellRelaxed;

impl RelaxedBuilder for RnnCellRelaxed {
    type Net = RnnCellSupernet;

    fn alpha_shape(&self, space: &dyn SearchSpace) -> [usize; 2] {
        let c = cell_config(space);
        [edge_count(c.nodes), c.activations.len()]
    }

    fn candidate_names(&self, space: &dyn SearchSpace) -> Vec<String> {
        cell_config(space)
            .activations
            .iter()
            .map(|a| a.name().to_string())
            .collect()
    }

    fn check_task(&self, task: &Task) -> Result<(), String> {
        text_check_task(task)
    }

    fn build(
        &self,
        space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
    ) -> RnnCellSupernet {
        build_supernet(space, spec, device, seed)
    }

    /// Per node, the input whose row holds the largest weight, and that row's strongest
    /// activation (ties to the lower index).
    fn derive(&self, space: &dyn SearchSpace, alpha: &[f32]) -> Result<Genotype, SpaceError> {
        let c = cell_config(space);
        let width = c.activations.len();
        if alpha.len() != edge_count(c.nodes) * width {
            return Err(SpaceError::Parse {
                input: format!("{} architecture weights", alpha.len()),
                reason: format!(
                    "expected {} ({} edges x {width} activations)",
                    edge_count(c.nodes) * width,
                    edge_count(c.nodes)
                ),
            });
        }
        let strongest = |row: usize| {
            let r = &alpha[row * width..(row + 1) * width];
            (0..width).fold(0, |best, a| if r[a] > r[best] { a } else { best })
        };
        let peak = |row: usize| alpha[row * width + strongest(row)];
        let nodes = (1..=c.nodes)
            .map(|k| {
                let input = (0..k).fold(0, |best, j| {
                    if peak(edge_row(k, j)) > peak(edge_row(k, best)) {
                        j
                    } else {
                        best
                    }
                });
                RnnNode {
                    input,
                    activation: c.activations[strongest(edge_row(k, input))],
                }
            })
            .collect();
        let arch = RnnCellArch { nodes };
        let space_of = space
            .downcast_ref::<RnnCellSpace>()
            .ok_or_else(|| SpaceError::Parse {
                input: arch.to_string(),
                reason: format!("the space is {}, not rnn-cell", space.name()),
            })?;
        space_of
            .encode_arch(&arch)
            .map_err(|reason| SpaceError::Parse {
                input: arch.to_string(),
                reason,
            })
    }
}

nas_nn::register_relaxed!(rnn_cell_space::NAME, RnnCellRelaxed);
