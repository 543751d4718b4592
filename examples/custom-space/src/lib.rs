//! A trainable space written outside the framework: ResNet-style networks of two stages of
//! residual blocks, searched over width, blocks per stage and kernel size. Here are the
//! space (one `register!`), its burn network and cost model (one `register_network!`);
//! linked into a `nas` (`main.rs`), every strategy searches it under `train` and `zero-cost`.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor, activation::relu, module::adaptive_avg_pool2d};
use nas_core::cost::out_size;
use nas_core::registry::{ConfigError, SpaceConfig};
use nas_core::{Cost, Decision, Genotype, Rng, SearchSpace, SpaceError};
use nas_nn::kernels::{batch_norm, conv2d};
use nas_nn::{Classifier, Counts, NetSpec, NetworkBuilder};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The space has no settings; its config is the empty table `{ type = "resnet" }`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResNetConfig {}

impl SpaceConfig for ResNetConfig {
    fn build(&self) -> Result<Arc<dyn SearchSpace>, ConfigError> {
        Ok(Arc::new(ResNetSpace(vec![
            Decision::categorical("width", &["4", "8", "16"]),
            Decision::categorical("blocks1", &["1", "2", "3"]),
            Decision::categorical("blocks2", &["1", "2", "3"]),
            Decision::categorical("kernel", &["3", "5"]),
        ])))
    }
}

nas_core::register!(
    dyn SpaceConfig,
    ResNetConfig,
    "resnet",
    "A ResNet-style space."
);

/// The space: a genotype is four choices, written `width,blocks1,blocks2,kernel`.
#[derive(Debug)]
pub struct ResNetSpace(Vec<Decision>);

impl SearchSpace for ResNetSpace {
    fn name(&self) -> &str {
        "resnet"
    }
    fn decisions(&self) -> &[Decision] {
        &self.0
    }
}

/// Every convolution of the network of `[width, blocks1, blocks2, kernel]`, in order:
/// `[c_in, c_out, kernel, stride, shortcut]`, the 1x1 shortcut of the block that halves
/// the image last in its block. The cost model and the network both read it, so they
/// cannot disagree.
fn convs([w, b1, b2, k]: [usize; 4], c_in: usize) -> Vec<[usize; 5]> {
    let mut convs = vec![[c_in, w, 3, 1, 0]];
    convs.extend(std::iter::repeat_n([w, w, k, 1, 0], 2 * b1));
    convs.extend([
        [w, 2 * w, k, 2, 0],
        [2 * w, 2 * w, k, 1, 0],
        [w, 2 * w, 1, 2, 1],
    ]);
    convs.extend(std::iter::repeat_n([2 * w, 2 * w, k, 1, 0], 2 * (b2 - 1)));
    convs
}

/// Parameters and FLOPs, and activation values per image (each convolution keeps its
/// output, batch norm and ReLU).
fn walk(a: [usize; 4], spec: &NetSpec) -> (Cost, f64) {
    let [c, mut h, mut w] = spec.task.input;
    let (mut cost, mut activations) = (Cost::default(), 0.0);
    for [i, o, k, s, shortcut] in convs(a, c) {
        if shortcut == 0 {
            (h, w) = (out_size(h, k, s, k / 2), out_size(w, k, s, k / 2));
            cost.batch_norm(o);
            activations += (3 * o * h * w) as f64;
        } // A shortcut maps the block's input to the size its first convolution gave.
        cost.conv(i, o, k, h, w);
    }
    cost.linear(2 * a[0], spec.task.classes);
    (cost, activations)
}

/// Conv-BN-ReLU, conv-BN, plus the input (through the strided 1x1 shortcut where the
/// block halves the image), then ReLU.
#[derive(Module, Debug)]
pub struct Block {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    shortcut: Option<Conv2d>,
}

/// Stem, the blocks, global average pooling and a linear classifier.
#[derive(Module, Debug)]
pub struct ResNet {
    stem: Conv2d,
    stem_bn: BatchNorm,
    blocks: Vec<Block>,
    head: Linear,
}

impl Classifier for ResNet {
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = relu(batch_norm(&self.stem_bn, conv2d(&self.stem, x)));
        for b in &self.blocks {
            let y = relu(batch_norm(&b.bn1, conv2d(&b.conv1, x.clone())));
            let y = batch_norm(&b.bn2, conv2d(&b.conv2, y));
            x = relu(y + b.shortcut.as_ref().map_or(x.clone(), |s| conv2d(s, x)));
        }
        self.head
            .forward(adaptive_avg_pool2d(x, [1, 1]).flatten(1, 3))
    }

    /// burn counts a batch norm's running mean and variance too: as many as its affine pair.
    fn trainable_params(&self) -> usize {
        let running = |bn: &BatchNorm| 2 * bn.gamma.lazy_shape().num_elements();
        let bns = self.blocks.iter().flat_map(|b| [&b.bn1, &b.bn2]);
        self.num_params() - bns.chain([&self.stem_bn]).map(running).sum::<usize>()
    }
}

/// Builds and counts the networks of the `resnet` space; the genotype sets every size, so
/// the spec's width and depth are unused.
#[derive(Debug)]
pub struct ResNetBuilder;

impl NetworkBuilder for ResNetBuilder {
    type Arch = [usize; 4];
    type Net = ResNet;

    fn decode(&self, space: &dyn SearchSpace, g: &Genotype) -> Result<[usize; 4], SpaceError> {
        space.validate(g)?; // Four choices, each in range, named by their numbers.
        let input = space.render(g);
        let values: Vec<usize> = input.split(',').filter_map(|v| v.parse().ok()).collect();
        let reason = "not a resnet genotype".into();
        values
            .try_into()
            .map_err(|_| SpaceError::Parse { input, reason })
    }

    fn counts(&self, a: &[usize; 4], spec: &NetSpec) -> Counts {
        let (cost, activations) = walk(*a, spec);
        let params = cost.params as f64;
        Counts {
            params,
            activations,
        }
    }

    fn cost(&self, a: &[usize; 4], spec: &NetSpec) -> Cost {
        walk(*a, spec).0
    }

    fn build(&self, a: &[usize; 4], spec: &NetSpec, device: &Device, seed: u64) -> ResNet {
        let conv = |&[i, o, k, s, _]: &[usize; 5]| {
            let pad = PaddingConfig2d::Explicit(k / 2, k / 2, k / 2, k / 2);
            let config = Conv2dConfig::new([i, o], [k, k]).with_padding(pad);
            let config = config.with_stride([s, s]).with_bias(false);
            config.with_initializer(Initializer::Zeros).init(device)
        };
        let bn = |c| BatchNormConfig::new(c).init(device);
        let all = convs(*a, spec.task.input[0]);
        let mut rest = all[1..].iter().peekable();
        let mut blocks = Vec::new();
        while let (Some(c1), Some(c2)) = (rest.next(), rest.next()) {
            let (conv1, conv2, bn1, bn2) = (conv(c1), conv(c2), bn(c1[1]), bn(c2[1]));
            let shortcut = rest.next_if(|c| c[4] == 1).map(conv);
            blocks.push(Block {
                conv1,
                bn1,
                conv2,
                bn2,
                shortcut,
            });
        }
        let head = LinearConfig::new(2 * a[0], spec.task.classes);
        let head = head.with_initializer(Initializer::Zeros).init(device);
        let (stem, stem_bn) = (conv(&all[0]), bn(a[0]));
        let net = ResNet {
            stem,
            stem_bn,
            blocks,
            head,
        };
        net.map(&mut nas_nn::init::SeededInit {
            rng: Rng::new(seed),
        })
    }
}

nas_nn::register_network!("resnet", ResNetBuilder);
