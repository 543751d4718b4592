//! The NB201 network runs on this backend; its parameter count is the structural count;
//! the same seed gives the same weights and outputs.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use burn::tensor::{Distribution, Tensor};
use nas_backend_ndarray as _;
use nas_nn::device;
use nas_space::Nb201NetConfig;
use nas_space::nb201_cost::cost;
use nas_space::nn::{Nb201Net, Nb201Supernet};

#[test]
fn the_network_runs_and_counts_like_the_table() {
    let d = device("ndarray").unwrap();
    for ops in [[3, 3, 3, 1, 3, 2], [0, 0, 0, 0, 0, 0], [4, 1, 2, 3, 0, 4]] {
        let net = Nb201NetConfig::default();
        let model = Nb201Net::new(&ops, &net, &d, 1);
        assert_eq!(
            model.trainable_params() as u64,
            cost(&ops, &net).params,
            "{ops:?}"
        );
        let small = Nb201NetConfig {
            channels: 4,
            cells_per_stage: 1,
            input: [1, 8, 8],
            classes: 10,
        };
        let m = Nb201Net::new(&ops, &small, &d, 1);
        let x = Tensor::<4>::random([2, 1, 8, 8], Distribution::Default, &d);
        let y = m.forward(x);
        assert_eq!(y.dims(), [2, 10]);
    }
}

#[test]
fn unknown_backends_are_named() {
    let e = device("cuda-nope").unwrap_err().to_string();
    assert!(
        e.contains("unknown backend `cuda-nope`") && e.contains("ndarray"),
        "{e}"
    );
}

/// The supernet holds every op's weights once per edge and cell position, and runs exactly
/// the cell it is given: cells that compute the same function give the same output.
#[test]
fn the_supernet_counts_every_op_and_runs_the_cell_it_is_given() {
    let d = device("ndarray").unwrap();
    let net = Nb201NetConfig::default();
    let params = |ops: [u32; 6]| cost(&ops, &net).params;
    let supernet = Nb201Supernet::new(&net, &d, 1);
    // The skeleton, plus every edge's 1x1 and 3x3 convolution (none, skip and pooling
    // have no weights).
    let expected = params([2; 6]) + params([3; 6]) - params([0; 6]);
    assert_eq!(supernet.trainable_params() as u64, expected);

    let small = Nb201NetConfig {
        channels: 4,
        cells_per_stage: 2,
        input: [1, 8, 8],
        classes: 10,
    };
    let supernet = Nb201Supernet::new(&small, &d, 1);
    let x = Tensor::<4>::random([2, 1, 8, 8], Distribution::Default, &d);
    let out = |ops: [u32; 6]| supernet.forward(x.clone(), &ops).into_data();
    // A dead skip (node 1 feeds nothing) changes nothing; two skips in a row are one skip.
    assert_eq!(out([0; 6]), out([1, 0, 0, 0, 0, 0]));
    assert_eq!(out([0, 0, 0, 1, 0, 0]), out([1, 0, 0, 0, 1, 0]));
    // A convolution is not a skip.
    assert_ne!(out([0, 0, 0, 1, 0, 0]), out([0, 0, 0, 3, 0, 0]));
    assert_eq!(supernet.forward(x, &[3; 6]).dims(), [2, 10]);
}
