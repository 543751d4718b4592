//! The recurrent-cell space's supernet: a child under the shared weights is the cell
//! network with the same maps, the sampled pass with one-hot weights is the mixed pass,
//! weights favouring a cell derive that cell, and DARTS and GDAS search it on the sentiment
//! sentences end to end.

use burn::tensor::{Device, Tensor, TensorData};
use nas_core::{Rng, SearchSpace};
use nas_darts::{DartsConfig, RelaxedSearch};
use nas_data::{DataConfig, DataSource};
use nas_nn::{RelaxedBuilder, batch};
use nas_space::nn::rnn_cell_supernet::{edge_count, edge_row};
use nas_space::nn::{RnnCellNet, RnnCellRelaxed, RnnCellSupernet};
use nas_space::{CellActivation, RnnCellArch, RnnCellSpace, RnnCellSpaceConfig};
use std::sync::Arc;

fn sentences(device: &Device) -> Tensor<4> {
    let splits = DataConfig {
        dataset: DataSource::Sentiment,
        ..DataConfig::default()
    }
    .load()
    .unwrap();
    batch(&splits.train, &(0..6).collect::<Vec<_>>(), device).0
}

fn supernet(device: &Device) -> RnnCellSupernet {
    RnnCellSupernet::new(8, &CellActivation::ALL, 6, [6000, 2], device, 4)
}

#[test]
fn a_child_under_shared_weights_is_the_cell_with_those_maps() {
    let device = Device::flex();
    let shared = supernet(&device);
    let x = sentences(&device);
    let space = RnnCellSpace::new(RnnCellSpaceConfig::default()).unwrap();
    let mut rng = Rng::new(9);
    for _ in 0..3 {
        let arch = space.decode(&space.sample(&mut rng)).unwrap();
        let mut net = RnnCellNet::new(&arch, 6, 6000, 2, &device, 0);
        net.text = shared.text.clone();
        net.input_map = shared.input_map.clone();
        net.hidden_map = shared.hidden_map.clone();
        for (k, node) in arch.nodes.iter().enumerate() {
            net.nodes[k] = shared.edges[edge_row(k + 1, node.input)].clone();
        }
        let diff: f32 = (shared.forward(x.clone(), &arch) - net.forward(x.clone()))
            .abs()
            .max()
            .into_scalar();
        assert!(diff < 1e-6, "{arch}: {diff}");
    }
}

#[test]
fn the_sampled_pass_with_one_hot_weights_is_the_mixed_pass() {
    let device = Device::flex();
    let shared = supernet(&device);
    let x = sentences(&device);
    let rows = edge_count(8);
    let mut rng = Rng::new(2);
    for _ in 0..3 {
        let choices: Vec<usize> = (0..rows).map(|_| rng.index(4)).collect();
        let mut one_hot = vec![0f32; rows * 4];
        for (row, &a) in choices.iter().enumerate() {
            one_hot[row * 4 + a] = 1.0;
        }
        let w = Tensor::<2>::from_data(TensorData::new(one_hot, [rows, 4]), &device);
        let sampled = shared.forward_sampled(x.clone(), &w, &choices);
        let mixed = shared.forward_mixed(x.clone(), &w);
        assert_eq!(sampled.dims(), [6, 2]);
        let diff: f32 = (sampled - mixed).abs().max().into_scalar();
        assert!(diff < 1e-5, "{diff}");
    }
}

#[test]
fn weights_that_favour_a_cell_derive_it() {
    let space = RnnCellSpace::new(RnnCellSpaceConfig::default()).unwrap();
    let arch: RnnCellArch = "relu<0|tanh<1|identity<0|sigmoid<2|relu<4|tanh<1|relu<6|identity<5"
        .parse()
        .unwrap();
    let mut alpha = vec![0.1f32; edge_count(8) * 4];
    for (k, node) in arch.nodes.iter().enumerate() {
        let a = CellActivation::ALL
            .iter()
            .position(|f| *f == node.activation)
            .unwrap();
        alpha[edge_row(k + 1, node.input) * 4 + a] = 0.9;
    }
    let g = RnnCellRelaxed.derive(&space, &alpha).unwrap();
    assert_eq!(space.render(&g), arch.to_string());
    assert_eq!(
        RelaxedBuilder::alpha_shape(&RnnCellRelaxed, &space),
        [36, 4]
    );
    let e = RnnCellRelaxed
        .derive(&space, &alpha[1..])
        .unwrap_err()
        .to_string();
    assert!(e.contains("36 edges x 4 activations"), "{e}");
}

#[test]
fn darts_and_gdas_search_recurrent_cells() {
    let space: Arc<dyn SearchSpace> = Arc::new(
        RnnCellSpace::new(RnnCellSpaceConfig {
            nodes: 3,
            ..RnnCellSpaceConfig::default()
        })
        .unwrap(),
    );
    let darts = DartsConfig {
        epochs: 1,
        data_fraction: 0.1,
        channels: 4,
        data: DataConfig {
            dataset: DataSource::Sentiment,
            ..DataConfig::default()
        },
        ..DartsConfig::default()
    };
    for (name, config) in crate::with_gdas(darts) {
        let phase = RelaxedSearch::new(name, &config, space.clone()).unwrap();
        let outcome = phase.run(1, &mut |_| {}).unwrap();
        assert_eq!(outcome.shape, [6, 4], "{name}");
        assert_eq!(outcome.candidates[0], "tanh");
        space.validate(&outcome.genotype).unwrap();
        let again = phase.run(1, &mut |_| {}).unwrap();
        assert_eq!(again.alpha, outcome.alpha, "{name}");
    }
}
