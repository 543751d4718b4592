//! The `rnn-cell` space's network, registered with nas-nn: the searched cell in a text
//! classifier ([`RnnCellNet`]); `width` is the hidden size (and the embedding's), `depth`
//! is not used.

use super::networks::parse;
use super::text_baselines::{GatedNet, Recurrence};
use super::{RnnCellNet, counts};
use crate::rnn_cell::{RnnCellArch, RnnCellParseError};
use crate::rnn_cell_cost::{TextNetConfig, cell_per_token, text_net};
use crate::rnn_cell_space;
use burn::tensor::{Device, Tensor};
use nas_core::{Cost, Genotype, SearchSpace, SpaceError};
use nas_nn::{Classifier, Counts, NetSpec, NetworkBuilder, Task};

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
