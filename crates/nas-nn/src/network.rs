//! How a space brings its network: the registry the training and zero-cost evaluators,
//! the benchmarks and the one-shot methods look networks up in, by the space's name.
//!
//! A space crate writes one [`NetworkBuilder`] (build the burn network of a genotype for a
//! task at a width and depth, count its parameters, FLOPs and activations) and registers
//! it with [`register_network!`](crate::register_network). The blanket
//! [`SpaceNetwork`] impl then monomorphizes the training loop ([`crate::fit`]) and the
//! proxies ([`crate::proxies`]) for that network inside the registering crate: burn's
//! optimizers need a concrete module type, and callers hold only a `&dyn SpaceNetwork`.

use crate::fit::{FitJob, FitOutcome};
use crate::trainable::{TrainableNetwork, WithOptimizer};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Int, Tensor};
use nas_core::{Cost, EvalError, Genotype, Reporter, Rng, SearchSpace, SpaceError};

/// What a network is built for: images of `input = [channels, height, width]`, or
/// sentences as rows of word ids (`input = [1, 1, max_words]`, see `nas_data::text`), and
/// `classes` outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    pub input: [usize; 3],
    pub classes: usize,
    /// Text: the rows of the embedding table the word ids index (padding and unknown
    /// included). 0 for images.
    pub vocabulary: usize,
}

impl Task {
    pub const fn images(input: [usize; 3], classes: usize) -> Task {
        Task {
            input,
            classes,
            vocabulary: 0,
        }
    }

    /// Sentences of at most `max_words` words, ids below `vocabulary`.
    pub const fn text(max_words: usize, vocabulary: usize, classes: usize) -> Task {
        Task {
            input: [1, 1, max_words],
            classes,
            vocabulary,
        }
    }

    pub fn is_text(&self) -> bool {
        self.vocabulary > 0
    }

    /// The task of a data set: its training split's shape and classes, its vocabulary.
    pub fn of(splits: &nas_data::Splits) -> Task {
        let t = &splits.train;
        Task {
            input: [t.channels, t.height, t.width],
            classes: t.classes,
            vocabulary: splits.vocabulary_size(),
        }
    }
}

/// A network's shape beyond its genotype: the task, and the width and depth a proxy
/// fidelity or the evaluator's config sets.
///
/// What `width` and `depth` mean is the space's to say (NB201: channels of the first stage
/// and cells per stage). A space whose genotype fixes every size ignores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetSpec {
    pub task: Task,
    pub width: usize,
    pub depth: usize,
}

/// Parameters and activation values per image of a network, as estimates in `f64` so that
/// no size overflows: they decide whether a network fits in memory before it is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counts {
    pub params: f64,
    /// Values the forward pass keeps for the backward pass, per image.
    pub activations: f64,
}

/// Refuses text (an image network would read word ids as pixels) and an input with a zero
/// dimension.
///
/// # Errors
/// The input, and why.
pub fn nonzero(task: &Task) -> Result<(), String> {
    if task.is_text() {
        return Err(format!(
            "the data are sentences (rows of word ids, a vocabulary of {}), and this space's network reads images; search a text space (rnn-cell)",
            task.vocabulary
        ));
    }
    let [c, h, w] = task.input;
    if c == 0 || h == 0 || w == 0 {
        return Err(format!(
            "input [{c}, {h}, {w}] has a zero dimension; every network needs at least one channel and one pixel"
        ));
    }
    Ok(())
}

/// A trainable classifier of images: `[batch, c, h, w]` in, `[batch, classes]` logits out.
pub trait Classifier: Module + 'static {
    /// Inference (and the zero-cost proxies' pass).
    fn forward(&self, x: Tensor<4>) -> Tensor<2>;

    /// A training step's forward pass: [`forward`](Self::forward) unless the network has
    /// randomness of its own (dropout), drawn from `rng`.
    fn forward_train(&self, x: Tensor<4>, _rng: &mut Rng) -> Tensor<2> {
        self.forward(x)
    }

    /// Trainable parameters (running statistics excluded).
    fn trainable_params(&self) -> usize;
}

/// What a space registers to be trained and scored: how to read a genotype into the
/// space's architecture, then how to check, count and build that architecture's network.
pub trait NetworkBuilder: Send + Sync + 'static {
    /// A decoded genotype (NB201: its six op indices).
    type Arch;
    type Net: Classifier;

    /// The architecture of `g`, a genotype of `space` (which a builder may downcast to
    /// its concrete type, [`SearchSpace::downcast_ref`](nas_core::SearchSpace)).
    ///
    /// # Errors
    /// A genotype the space cannot decode.
    fn decode(&self, space: &dyn SearchSpace, g: &Genotype) -> Result<Self::Arch, SpaceError>;

    /// Why the space's networks cannot take `task`'s images, if they cannot. The default
    /// refuses only a zero dimension.
    ///
    /// # Errors
    /// The reason, with the smallest input that works where there is one.
    fn check_task(&self, task: &Task) -> Result<(), String> {
        nonzero(task)
    }

    /// The genotype whose network is the largest of the space at any spec, if the space
    /// has one: its memory is checked once, before a search starts. Without one, each
    /// trial is checked before its network is built.
    fn largest(&self, _space: &dyn SearchSpace) -> Option<Genotype> {
        None
    }

    /// Parameters and activations of the network, for the memory check.
    fn counts(&self, arch: &Self::Arch, spec: &NetSpec) -> Counts;

    /// Exact parameter and FLOP counts of the network.
    fn cost(&self, arch: &Self::Arch, spec: &NetSpec) -> Cost;

    /// The network on `device`, its weights drawn from `seed` alone (see
    /// [`crate::init::SeededInit`]).
    fn build(&self, arch: &Self::Arch, spec: &NetSpec, device: &Device, seed: u64) -> Self::Net;

    /// The network synflow scores: without batch norm (Tanaka et al. 2020), whose
    /// normalization would hide the product of weights synflow measures. The default is
    /// [`build`](Self::build), for networks without batch norm.
    fn build_without_batch_norm(
        &self,
        arch: &Self::Arch,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
    ) -> Self::Net {
        self.build(arch, spec, device, seed)
    }
}

/// A zero-cost proxy and the input it looks at.
#[derive(Debug, Clone)]
pub enum ProxyPass {
    /// Data-free: one all-ones image of the task's shape.
    Synflow,
    /// Σ over weight tensors of the loss gradient's norm, on one minibatch.
    GradNorm {
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    },
    /// Σ |θ ⊙ ∂L/∂θ| on one minibatch.
    Snip {
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    },
    /// The correlation of input gradients across one minibatch.
    JacobCov { images: Tensor<4> },
}

/// A registered network, type-erased: what evaluators and benchmarks call. Every
/// [`NetworkBuilder`] is one.
pub trait SpaceNetwork: Send + Sync {
    /// See [`NetworkBuilder::check_task`].
    ///
    /// # Errors
    /// Why the task does not fit.
    fn check_task(&self, task: &Task) -> Result<(), String>;

    /// See [`NetworkBuilder::largest`].
    fn largest(&self, space: &dyn SearchSpace) -> Option<Genotype>;

    /// See [`NetworkBuilder::counts`].
    ///
    /// # Errors
    /// A genotype the space cannot decode.
    fn counts(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        spec: &NetSpec,
    ) -> Result<Counts, SpaceError>;

    /// See [`NetworkBuilder::cost`].
    ///
    /// # Errors
    /// A genotype the space cannot decode.
    fn cost(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        spec: &NetSpec,
    ) -> Result<Cost, SpaceError>;

    /// Trains `g`'s network as [`crate::fit::fit`] does.
    ///
    /// # Errors
    /// As [`crate::fit::fit`]; a genotype the space cannot decode or a task its network
    /// cannot take is a failed trial.
    fn fit(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        spec: &NetSpec,
        job: &FitJob<'_>,
        reporter: &mut dyn Reporter,
    ) -> Result<FitOutcome, EvalError>;

    /// The score of `proxy` for `g`'s untrained network, weights from `seed`.
    ///
    /// # Errors
    /// A genotype the space cannot decode.
    fn score(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        spec: &NetSpec,
        proxy: ProxyPass,
        device: &Device,
        seed: u64,
    ) -> Result<f64, SpaceError>;

    /// `g`'s network on the autodiff `device`, weights from `seed`, trained by
    /// `optimizer` on whatever loss the caller computes (a policy-gradient loss).
    ///
    /// # Errors
    /// A genotype the space cannot decode, or a task its network cannot take.
    fn trainable(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
        optimizer: ModuleOptimizer,
    ) -> Result<Box<dyn TrainableNetwork>, String>;
}

impl<B: NetworkBuilder> SpaceNetwork for B {
    fn check_task(&self, task: &Task) -> Result<(), String> {
        NetworkBuilder::check_task(self, task)
    }

    fn largest(&self, space: &dyn SearchSpace) -> Option<Genotype> {
        NetworkBuilder::largest(self, space)
    }

    fn counts(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        spec: &NetSpec,
    ) -> Result<Counts, SpaceError> {
        Ok(NetworkBuilder::counts(self, &self.decode(space, g)?, spec))
    }

    fn cost(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        spec: &NetSpec,
    ) -> Result<Cost, SpaceError> {
        Ok(NetworkBuilder::cost(self, &self.decode(space, g)?, spec))
    }

    fn fit(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        spec: &NetSpec,
        job: &FitJob<'_>,
        reporter: &mut dyn Reporter,
    ) -> Result<FitOutcome, EvalError> {
        NetworkBuilder::check_task(self, &spec.task).map_err(EvalError::Failed)?;
        let arch = self
            .decode(space, g)
            .map_err(|e| EvalError::Failed(e.to_string()))?;
        crate::fit::fit(
            |device| self.build(&arch, spec, device, job.seed),
            spec.task,
            job,
            reporter,
        )
    }

    fn score(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        spec: &NetSpec,
        proxy: ProxyPass,
        device: &Device,
        seed: u64,
    ) -> Result<f64, SpaceError> {
        use crate::proxies;
        let arch = self.decode(space, g)?;
        let d = device.clone().autodiff();
        let net = || self.build(&arch, spec, &d, seed);
        Ok(match proxy {
            ProxyPass::Synflow => proxies::synflow(
                self.build_without_batch_norm(&arch, spec, &d, seed),
                spec.task.input,
                &d,
            ),
            ProxyPass::GradNorm { images, labels } => {
                proxies::gradient_scores(net(), images, labels, &d).0
            }
            ProxyPass::Snip { images, labels } => {
                proxies::gradient_scores(net(), images, labels, &d).1
            }
            ProxyPass::JacobCov { images } => proxies::jacob_cov(net(), images, &d),
        })
    }

    fn trainable(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
        optimizer: ModuleOptimizer,
    ) -> Result<Box<dyn TrainableNetwork>, String> {
        NetworkBuilder::check_task(self, &spec.task)?;
        let arch = self.decode(space, g).map_err(|e| e.to_string())?;
        let net = self.build(&arch, spec, device, seed);
        Ok(Box::new(WithOptimizer::new(net, optimizer)))
    }
}

/// Registers a [`NetworkBuilder`] (a constant expression, usually a unit struct) for the
/// space registered as `$space`:
///
/// ```ignore
/// nas_nn::register_network!("resnet", ResNetBuilder);
/// ```
#[macro_export]
macro_rules! register_network {
    ($space:expr, $builder:expr $(,)?) => {
        $crate::inventory::submit! {
            $crate::registry::SpacePlugin::<dyn $crate::SpaceNetwork> {
                space: $space,
                plugin: &$builder,
            }
        }
    };
}

/// The names of the spaces with a registered network, sorted.
pub fn networks() -> Vec<&'static str> {
    crate::registry::names::<dyn SpaceNetwork>()
}

/// The network registered for the space `space`.
///
/// # Errors
/// No crate linked into this program registers one, or two do: the message names the
/// spaces that have one.
pub fn network_of(space: &str) -> Result<&'static dyn SpaceNetwork, String> {
    crate::registry::lookup::<dyn SpaceNetwork>(space)
}
