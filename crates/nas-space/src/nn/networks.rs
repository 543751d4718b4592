//! The networks of this crate's spaces, registered by space name ([`nas_nn::network`]):
//! what lets the `train` and `zero-cost` evaluators, the benchmarks and one-shot methods
//! build them without knowing them.

use super::{ChainCnnNet, LeNet5Net, MlpNet, Nb201Net, Nb201Supernet, counts};
use crate::chain_cnn::{ChainArch, ChainParseError};
use crate::mlp::{MlpArch, MlpParseError};
use crate::nb201::{EDGES, OPS};
use crate::nb201_cost::Nb201NetConfig;
use crate::{Nb201Space, chain_cnn_cost, chain_cnn_space, mlp_cost, mlp_space, nb201_cost};
use burn::tensor::{Device, Tensor};
use nas_core::{Cost, Genotype, Rng, SearchSpace, SpaceError, Value};
use nas_nn::{
    Classifier, Counts, NetSpec, NetworkBuilder, RelaxedBuilder, RelaxedSupernet, Supernet,
    SupernetBuilder, Task, nonzero,
};

/// NAS-Bench-201's cell with every edge a 3x3 convolution: the largest network of the
/// space for a given width and depth, the one a configuration has to fit.
pub const NB201_LARGEST_CELL: [u32; 6] = [3; 6];

impl Classifier for Nb201Net {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        Nb201Net::forward(self, x)
    }
    fn trainable_params(&self) -> usize {
        Nb201Net::trainable_params(self)
    }
}

impl Classifier for ChainCnnNet {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        ChainCnnNet::forward(self, x)
    }
    fn trainable_params(&self) -> usize {
        ChainCnnNet::trainable_params(self)
    }
}

impl Classifier for MlpNet {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        MlpNet::forward(self, x)
    }
    fn forward_train(&self, x: Tensor<4>, rng: &mut Rng) -> Tensor<2> {
        MlpNet::forward_train(self, x, rng)
    }
    fn trainable_params(&self) -> usize {
        MlpNet::trainable_params(self)
    }
}

impl Classifier for LeNet5Net {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        LeNet5Net::forward(self, x)
    }
    fn trainable_params(&self) -> usize {
        LeNet5Net::trainable_params(self)
    }
}

/// The NB201 network's shape for `spec`: `width` is the first stage's channels (`C`),
/// `depth` the cells per stage (`N`).
pub fn nb201_net_config(spec: &NetSpec) -> Nb201NetConfig {
    Nb201NetConfig {
        channels: spec.width,
        cells_per_stage: spec.depth,
        input: spec.task.input,
        classes: spec.task.classes,
    }
}

/// NB201 halves the image in two stride-2 reductions whose shortcut (2x2 average pooling)
/// must land on the size of the strided convolution: height and width must be multiples
/// of 4. The network and the supernet share the rule.
fn nb201_check_task(task: &Task) -> Result<(), String> {
    nonzero(task)?;
    let [_, h, w] = task.input;
    if !h.is_multiple_of(4) || !w.is_multiple_of(4) {
        return Err(format!(
            "the nb201 network cannot take {h}x{w} images: its two stride-2 reductions need height and width multiples of 4 (the smallest is 4x4; 8x8, 28x28 and 32x32 work), because each reduction's 2x2 pooled shortcut must match its strided convolution"
        ));
    }
    Ok(())
}

/// The NB201 network (Dong & Yang 2020) of a cell.
#[derive(Debug)]
pub struct Nb201Network;

impl NetworkBuilder for Nb201Network {
    type Arch = [u32; 6];
    type Net = Nb201Net;

    fn decode(&self, space: &dyn SearchSpace, g: &Genotype) -> Result<[u32; 6], SpaceError> {
        space.validate(g)?;
        Nb201Space::new().ops(g)
    }

    fn check_task(&self, task: &Task) -> Result<(), String> {
        nb201_check_task(task)
    }

    fn largest(&self, _space: &dyn SearchSpace) -> Option<Genotype> {
        Some(Genotype(
            NB201_LARGEST_CELL
                .iter()
                .map(|&op| Value::Index(op))
                .collect(),
        ))
    }

    fn counts(&self, ops: &[u32; 6], spec: &NetSpec) -> Counts {
        counts::nb201(ops, &nb201_net_config(spec))
    }

    fn cost(&self, ops: &[u32; 6], spec: &NetSpec) -> Cost {
        nb201_cost::cost(ops, &nb201_net_config(spec))
    }

    fn build(&self, ops: &[u32; 6], spec: &NetSpec, device: &Device, seed: u64) -> Nb201Net {
        Nb201Net::new(ops, &nb201_net_config(spec), device, seed)
    }

    fn build_without_batch_norm(
        &self,
        ops: &[u32; 6],
        spec: &NetSpec,
        device: &Device,
        seed: u64,
    ) -> Nb201Net {
        Nb201Net::without_batch_norm(ops, &nb201_net_config(spec), device, seed)
    }
}

nas_nn::register_network!("nb201", Nb201Network);

impl Supernet for Nb201Supernet {
    type Arch = [u32; 6];
    fn forward(&self, x: Tensor<4>, ops: &[u32; 6]) -> Tensor<2> {
        Nb201Supernet::forward(self, x, ops)
    }
    fn trainable_params(&self) -> usize {
        Nb201Supernet::trainable_params(self)
    }
}

/// The NB201 supernet ([`Nb201Supernet`]): one set of weights for every cell, a forward
/// pass running one cell's ops.
#[derive(Debug)]
pub struct Nb201SharedWeights;

impl SupernetBuilder for Nb201SharedWeights {
    type Net = Nb201Supernet;

    fn decode(&self, space: &dyn SearchSpace, g: &Genotype) -> Result<[u32; 6], SpaceError> {
        Nb201Network.decode(space, g)
    }

    fn check_task(&self, task: &Task) -> Result<(), String> {
        nb201_check_task(task)
    }

    fn build(
        &self,
        _space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
    ) -> Nb201Supernet {
        Nb201Supernet::new(&nb201_net_config(spec), device, seed)
    }
}

nas_nn::register_supernet!("nb201", Nb201SharedWeights);

impl RelaxedSupernet for Nb201Supernet {
    fn forward_mixed(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<2> {
        Nb201Supernet::forward_mixed(self, x, weights)
    }
    /// `choices` are the six edges' op codes (each below 5).
    fn forward_sampled(&self, x: Tensor<4>, weights: &Tensor<2>, choices: &[usize]) -> Tensor<2> {
        let mut ops = [0u32; 6];
        for (op, &c) in ops.iter_mut().zip(choices) {
            *op = c.min(OPS.len() - 1) as u32;
        }
        Nb201Supernet::forward_sampled(self, x, weights, &ops)
    }
    fn trainable_params(&self) -> usize {
        Nb201Supernet::trainable_params(self)
    }
}

/// The NB201 supernet relaxed (DARTS): architecture weights `[6 edges, 5 ops]`, the same
/// at every cell position; the derived cell takes each edge's strongest op.
#[derive(Debug)]
pub struct Nb201Relaxed;

impl RelaxedBuilder for Nb201Relaxed {
    type Net = Nb201Supernet;

    fn alpha_shape(&self, _space: &dyn SearchSpace) -> [usize; 2] {
        [EDGES.len(), OPS.len()]
    }

    fn candidate_names(&self, _space: &dyn SearchSpace) -> Vec<String> {
        OPS.iter().map(ToString::to_string).collect()
    }

    fn check_task(&self, task: &Task) -> Result<(), String> {
        nb201_check_task(task)
    }

    fn build(
        &self,
        _space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
    ) -> Nb201Supernet {
        Nb201Supernet::new(&nb201_net_config(spec), device, seed)
    }

    fn derive(&self, space: &dyn SearchSpace, alpha: &[f32]) -> Result<Genotype, SpaceError> {
        let rows: Vec<&[f32]> = alpha.chunks(OPS.len()).collect();
        if rows.len() != EDGES.len() || alpha.len() != EDGES.len() * OPS.len() {
            return Err(SpaceError::Parse {
                input: format!("{} architecture weights", alpha.len()),
                reason: format!("expected {} (6 edges x 5 ops)", EDGES.len() * OPS.len()),
            });
        }
        // The strongest op of each edge; a tie goes to the lower op code.
        let ops = rows.iter().map(|row| {
            let best = row.iter().enumerate().fold(
                0,
                |best, (k, &a)| {
                    if a > row[best] { k } else { best }
                },
            );
            best as u32
        });
        let g = Genotype::from_indices(ops);
        space.validate(&g)?;
        Ok(g)
    }
}

nas_nn::register_relaxed!("nb201", Nb201Relaxed);

/// A genotype read through the space's own string form, which names every value
/// (`f16k3s1|...`, `64-32:relu:0.1`), so the architecture is known without the space's
/// config.
pub(crate) fn parse<A, E>(
    space: &dyn SearchSpace,
    g: &Genotype,
    reason: impl Fn(E) -> String,
) -> Result<A, SpaceError>
where
    A: std::str::FromStr<Err = E>,
{
    space.validate(g)?;
    let text = space.render(g);
    text.parse().map_err(|e| SpaceError::Parse {
        input: text,
        reason: reason(e),
    })
}

/// A chain-structured CNN: its genotype sets every width; `width` and `depth` are unused.
#[derive(Debug)]
pub struct ChainCnnNetwork;

impl NetworkBuilder for ChainCnnNetwork {
    type Arch = ChainArch;
    type Net = ChainCnnNet;

    fn decode(&self, space: &dyn SearchSpace, g: &Genotype) -> Result<ChainArch, SpaceError> {
        parse(space, g, |e: ChainParseError| e.0)
    }

    fn counts(&self, a: &ChainArch, spec: &NetSpec) -> Counts {
        counts::chain_cnn(a, spec.task.input, spec.task.classes)
    }

    fn cost(&self, a: &ChainArch, spec: &NetSpec) -> Cost {
        chain_cnn_cost::cost(a, spec.task.input, spec.task.classes)
    }

    fn build(&self, a: &ChainArch, spec: &NetSpec, device: &Device, seed: u64) -> ChainCnnNet {
        ChainCnnNet::new(a, spec.task.input, spec.task.classes, device, seed)
    }
}

nas_nn::register_network!(chain_cnn_space::NAME, ChainCnnNetwork);

/// A multilayer perceptron: its genotype sets every width; `width` and `depth` are unused.
#[derive(Debug)]
pub struct MlpNetwork;

impl NetworkBuilder for MlpNetwork {
    type Arch = MlpArch;
    type Net = MlpNet;

    fn decode(&self, space: &dyn SearchSpace, g: &Genotype) -> Result<MlpArch, SpaceError> {
        parse(space, g, |e: MlpParseError| e.0)
    }

    fn counts(&self, a: &MlpArch, spec: &NetSpec) -> Counts {
        counts::mlp(a, spec.task.input, spec.task.classes)
    }

    fn cost(&self, a: &MlpArch, spec: &NetSpec) -> Cost {
        mlp_cost::cost(a, spec.task.input, spec.task.classes)
    }

    fn build(&self, a: &MlpArch, spec: &NetSpec, device: &Device, seed: u64) -> MlpNet {
        MlpNet::new(a, spec.task.input, spec.task.classes, device, seed)
    }
}

nas_nn::register_network!(mlp_space::NAME, MlpNetwork);

/// Why LeNet-5 (the hand-designed baseline, no space) cannot take `task`: its two 2x2
/// poolings leave nothing of an image under 4x4.
///
/// # Errors
/// The reason.
pub fn lenet_check_task(task: &Task) -> Result<(), String> {
    nonzero(task)?;
    let [_, h, w] = task.input;
    if h < 4 || w < 4 {
        return Err(format!(
            "LeNet-5 cannot take {h}x{w} images: its two 2x2 poolings need at least 4x4"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nas_nn::memory::{GIB, check_memory, training_memory};

    fn spec(channels: usize, cells: usize, input: [usize; 3], classes: usize) -> NetSpec {
        NetSpec {
            task: Task::images(input, classes),
            width: channels,
            depth: cells,
        }
    }

    #[test]
    fn nb201_parameters_match_the_structural_count() {
        // The estimate's parameters are the cost model's (which equals the table's).
        for ops in [[3; 6], [0; 6], [1, 2, 3, 4, 0, 3]] {
            for spec in [spec(16, 5, [3, 32, 32], 10), spec(8, 1, [1, 8, 8], 10)] {
                let estimate = NetworkBuilder::counts(&Nb201Network, &ops, &spec);
                let exact = NetworkBuilder::cost(&Nb201Network, &ops, &spec);
                assert_eq!(estimate.params, exact.params as f64, "{ops:?} {spec:?}");
            }
        }
    }

    #[test]
    fn the_default_search_fits_and_a_million_channels_do_not() {
        let limit = (8.0 * GIB, "8 GiB".to_string());
        let space = Nb201Space::new();
        let g = NetworkBuilder::largest(&Nb201Network, &space).unwrap();
        let ops = Nb201Network.decode(&space, &g).unwrap();
        let count = |s: NetSpec| NetworkBuilder::counts(&Nb201Network, &ops, &s);
        let small = spec(8, 1, [1, 8, 8], 10);
        assert!(check_memory("x", training_memory(count(small), 64), &limit, "").is_ok());
        // The benchmark's own network, CIFAR-sized, batch 256: about 6 GiB by this
        // (generous) count, within any machine that trains it.
        let bench = training_memory(count(spec(16, 5, [3, 32, 32], 10)), 256);
        assert!(bench.total() < 8.0 * GIB, "{bench:?}");
        let huge = NetSpec {
            width: 1_000_000,
            ..small
        };
        let e = check_memory(
            "a step",
            training_memory(count(huge), 64),
            &limit,
            "`channels`",
        )
        .unwrap_err();
        assert!(
            e.contains("more than 8 GiB") && e.contains("`channels`"),
            "{e}"
        );
    }

    #[test]
    fn inputs_each_network_cannot_take_are_named() {
        let task = |input| Task::images(input, 10);
        let nb201 = |input| NetworkBuilder::check_task(&Nb201Network, &task(input));
        assert!(nb201([3, 32, 32]).is_ok());
        assert!(nb201([1, 4, 4]).is_ok());
        for bad in [[3, 2, 2], [1, 1, 1], [1, 6, 6], [1, 28, 30]] {
            let e = nb201(bad).unwrap_err();
            assert!(e.contains("multiples of 4") && e.contains("4x4"), "{e}");
        }
        assert!(NetworkBuilder::check_task(&ChainCnnNetwork, &task([1, 1, 1])).is_ok());
        let e = NetworkBuilder::check_task(&MlpNetwork, &task([1, 0, 3])).unwrap_err();
        assert!(e.contains("zero"), "{e}");
        assert!(lenet_check_task(&task([1, 3, 8])).is_err());
        assert!(lenet_check_task(&task([1, 8, 8])).is_ok());
    }

    #[test]
    fn every_space_of_this_crate_has_its_network_registered() {
        let names = nas_nn::networks();
        for space in ["nb201", chain_cnn_space::NAME, mlp_space::NAME] {
            assert!(names.contains(&space), "{space} missing from {names:?}");
        }
        let e = nas_nn::network_of("no-such-space").err().unwrap();
        assert!(e.contains("no-such-space") && e.contains("nb201"), "{e}");
    }
}
