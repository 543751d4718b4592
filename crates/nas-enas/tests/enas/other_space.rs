//! ENAS knows no space: a space written here, with a supernet of its own registered
//! through `nas_nn::register_supernet!`, is searched by the same phase that searches NB201.

use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use nas_core::{Decision, Genotype, SearchSpace, SpaceError};
use nas_enas::{EnasConfig, SupernetSearch};
use nas_nn::{NetSpec, Supernet, SupernetBuilder};
use std::sync::Arc;

/// Two hidden layers, each a choice of one of three widths' worth of shared weights.
#[derive(Debug)]
struct TwoLayers(Vec<Decision>);

impl SearchSpace for TwoLayers {
    fn name(&self) -> &str {
        "two-layers"
    }
    fn decisions(&self) -> &[Decision] {
        &self.0
    }
}

/// One linear layer per (position, choice), a classifier on top.
#[derive(Module, Debug)]
struct TwoLayersSupernet {
    candidates: Vec<Linear>,
    head: Linear,
}

const HIDDEN: usize = 32;

impl Supernet for TwoLayersSupernet {
    type Arch = [usize; 2];
    fn forward(&self, x: Tensor<4>, arch: &[usize; 2]) -> Tensor<2> {
        let mut x: Tensor<2> = x.flatten(1, 3);
        for (position, &choice) in arch.iter().enumerate() {
            x = relu(self.candidates[3 * position + choice].forward(x));
        }
        self.head.forward(x)
    }
    fn trainable_params(&self) -> usize {
        self.num_params()
    }
}

#[derive(Debug)]
struct TwoLayersBuilder;

impl SupernetBuilder for TwoLayersBuilder {
    type Net = TwoLayersSupernet;

    fn decode(&self, space: &dyn SearchSpace, g: &Genotype) -> Result<[usize; 2], SpaceError> {
        space.validate(g)?;
        let index = |i: usize| g.0[i].as_index().unwrap_or(0) as usize;
        Ok([index(0), index(1)])
    }

    fn build(
        &self,
        _: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
    ) -> TwoLayersSupernet {
        let [c, h, w] = spec.task.input;
        // Zeros, then every weight matrix from the seed (biases stay zero): burn's own
        // initializer draws from a process-wide generator.
        let linear = |i, o| {
            LinearConfig::new(i, o)
                .with_initializer(Initializer::Zeros)
                .init(device)
        };
        let candidates = (0..6)
            .map(|i| linear(if i < 3 { c * h * w } else { HIDDEN }, HIDDEN))
            .collect();
        let head = linear(HIDDEN, spec.task.classes);
        TwoLayersSupernet { candidates, head }.map(&mut nas_nn::init::SeededInit {
            rng: nas_core::Rng::new(seed),
        })
    }
}

nas_nn::register_supernet!("two-layers", TwoLayersBuilder);

#[test]
fn a_space_that_registers_a_supernet_is_searched_by_enas() {
    let choices = ["a", "b", "c"];
    let space: Arc<dyn SearchSpace> = Arc::new(TwoLayers(vec![
        Decision::categorical("first", &choices),
        Decision::categorical("second", &choices),
    ]));
    let config = EnasConfig {
        epochs: 2,
        controller_steps: 10,
        derive_samples: 9,
        derive_images: 128,
        ..EnasConfig::default()
    };
    let phase = SupernetSearch::new(&config, Arc::clone(&space)).unwrap();
    let (outcome, trained) = phase.run(3, &mut |_| {}).unwrap();
    assert!(!outcome.candidates.is_empty());
    for c in &outcome.candidates {
        space.validate(&c.genotype).unwrap();
    }
    // Shared weights of an MLP on the digits beat chance (10%) after two epochs.
    let best = &outcome.candidates[0];
    assert!(best.supernet_acc > 30.0, "{best:?}");
    // Three candidates per layer, each with its bias, and the classifier.
    let params = 3 * 65 * HIDDEN + 3 * 33 * HIDDEN + 33 * 10;
    assert_eq!(trained.supernet.trainable_params(), params);
}
