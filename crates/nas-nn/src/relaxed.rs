//! How a space brings a relaxed supernet for gradient-based methods (DARTS): every
//! candidate op of every choice runs, mixed by architecture weights (one row per choice,
//! one column per candidate), so the choice itself is differentiable. A space crate
//! implements [`RelaxedBuilder`] and registers it with
//! [`register_relaxed!`](crate::register_relaxed); a method finds it by the space's name and
//! drives it through [`RelaxedWeights`].

use crate::network::{NetSpec, Task, nonzero};
use crate::weights::{TrainedWeights, WeightGrads, WithSgd};
use burn::module::Module;
use burn::tensor::{Device, Gradients, Tensor};
use nas_core::{Genotype, SearchSpace, SpaceError};
use std::fmt;

/// A supernet whose forward pass mixes every candidate op by architecture weights.
pub trait RelaxedSupernet: Module + 'static {
    /// Logits `[batch, classes]` with every choice mixed by its row of `weights`
    /// (`[choices, candidates]`, each row a distribution).
    fn forward_mixed(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<2>;

    /// Logits with one candidate per choice running, `choices[row]`, scaled by its weight,
    /// and the row's other weights added as scalars (GDAS): with straight-through weights,
    /// one-hot in value, the output is the sampled architecture's and the gradient reaches
    /// every weight.
    fn forward_sampled(&self, x: Tensor<4>, weights: &Tensor<2>, choices: &[usize]) -> Tensor<2>;

    /// Trainable parameters (every candidate op's; running statistics excluded).
    fn trainable_params(&self) -> usize;
}

/// What a space registers to offer a relaxed supernet.
pub trait RelaxedBuilder: Send + Sync + fmt::Debug + 'static {
    type Net: RelaxedSupernet;

    /// `[choices, candidates]`: the shape of the architecture weights for `space`.
    fn alpha_shape(&self, space: &dyn SearchSpace) -> [usize; 2];

    /// The name of each candidate (column), for reports.
    fn candidate_names(&self, space: &dyn SearchSpace) -> Vec<String>;

    /// Why the supernet cannot take `task`'s images, if it cannot.
    ///
    /// # Errors
    /// The reason.
    fn check_task(&self, task: &Task) -> Result<(), String> {
        nonzero(task)
    }

    /// The supernet of `space` (whose config may size it) on `device`, its weights drawn
    /// from `seed` alone.
    fn build(
        &self,
        space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
    ) -> Self::Net;

    /// The genotype the architecture weights `alpha` (row-major, `alpha_shape`) choose:
    /// DARTS's derivation (NB201: the strongest op of each edge).
    ///
    /// # Errors
    /// Weights that choose no genotype of `space`.
    fn derive(&self, space: &dyn SearchSpace, alpha: &[f32]) -> Result<Genotype, SpaceError>;
}

/// A registered relaxed supernet, type-erased.
pub trait SpaceRelaxed: Send + Sync + fmt::Debug {
    /// See [`RelaxedBuilder::alpha_shape`].
    fn alpha_shape(&self, space: &dyn SearchSpace) -> [usize; 2];

    /// See [`RelaxedBuilder::candidate_names`].
    fn candidate_names(&self, space: &dyn SearchSpace) -> Vec<String>;

    /// See [`RelaxedBuilder::check_task`].
    ///
    /// # Errors
    /// Why the task does not fit.
    fn check_task(&self, task: &Task) -> Result<(), String>;

    /// See [`RelaxedBuilder::derive`].
    ///
    /// # Errors
    /// Weights that choose no genotype of `space`.
    fn derive(&self, space: &dyn SearchSpace, alpha: &[f32]) -> Result<Genotype, SpaceError>;

    /// Fresh weights on the autodiff `device`, trained by SGD with `momentum` and
    /// `weight_decay`.
    fn relaxed_weights(
        &'static self,
        space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
        momentum: f64,
        weight_decay: f64,
    ) -> Box<dyn RelaxedWeights>;
}

/// A relaxed supernet's weights and their SGD state, as a gradient-based method drives
/// them; the architecture weights are the method's own.
pub trait RelaxedWeights: TrainedWeights {
    /// Logits with every choice mixed by `weights` (`[choices, candidates]`).
    fn forward(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<2>;

    /// Logits of one sampled candidate per choice ([`RelaxedSupernet::forward_sampled`]).
    fn forward_sampled(&self, x: Tensor<4>, weights: &Tensor<2>, choices: &[usize]) -> Tensor<2>;

    /// A copy one SGD step further along `loss` (computed with these weights) at learning
    /// rate `lr`, with this optimizer's momentum and decay: second-order DARTS's unrolled
    /// weights. These weights are unchanged.
    fn unrolled(&self, loss: Tensor<1>, lr: f64) -> Box<dyn RelaxedWeights>;

    /// The gradient in `grads` (of a loss computed with these weights) of every weight.
    fn weight_grads(&self, grads: &Gradients) -> WeightGrads;

    /// A copy whose weights moved by `scale` along `direction`.
    fn perturbed(&self, direction: &WeightGrads, scale: f64) -> Box<dyn RelaxedWeights>;

    fn trainable_params(&self) -> usize;
}

impl<B: RelaxedBuilder> SpaceRelaxed for B {
    fn alpha_shape(&self, space: &dyn SearchSpace) -> [usize; 2] {
        RelaxedBuilder::alpha_shape(self, space)
    }

    fn candidate_names(&self, space: &dyn SearchSpace) -> Vec<String> {
        RelaxedBuilder::candidate_names(self, space)
    }

    fn check_task(&self, task: &Task) -> Result<(), String> {
        RelaxedBuilder::check_task(self, task)
    }

    fn derive(&self, space: &dyn SearchSpace, alpha: &[f32]) -> Result<Genotype, SpaceError> {
        RelaxedBuilder::derive(self, space, alpha)
    }

    fn relaxed_weights(
        &'static self,
        space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
        momentum: f64,
        weight_decay: f64,
    ) -> Box<dyn RelaxedWeights> {
        let net = self.build(space, spec, device, seed);
        Box::new(WithSgd::new(net, momentum, weight_decay, ()))
    }
}

impl<M: RelaxedSupernet> RelaxedWeights for WithSgd<M> {
    fn forward(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<2> {
        self.net().forward_mixed(x, weights)
    }

    fn forward_sampled(&self, x: Tensor<4>, weights: &Tensor<2>, choices: &[usize]) -> Tensor<2> {
        self.net().forward_sampled(x, weights, choices)
    }

    fn unrolled(&self, loss: Tensor<1>, lr: f64) -> Box<dyn RelaxedWeights> {
        Box::new(WithSgd::unrolled(self, loss, lr))
    }

    fn weight_grads(&self, grads: &Gradients) -> WeightGrads {
        WithSgd::weight_grads(self, grads)
    }

    fn perturbed(&self, direction: &WeightGrads, scale: f64) -> Box<dyn RelaxedWeights> {
        Box::new(WithSgd::perturbed(self, direction, scale))
    }

    fn trainable_params(&self) -> usize {
        self.net().trainable_params()
    }
}

/// Registers a [`RelaxedBuilder`] (a constant expression) for the space `$space`.
#[macro_export]
macro_rules! register_relaxed {
    ($space:expr, $builder:expr $(,)?) => {
        $crate::inventory::submit! {
            $crate::registry::SpacePlugin::<dyn $crate::SpaceRelaxed> {
                space: $space,
                plugin: &$builder,
            }
        }
    };
}

/// The names of the spaces with a registered relaxed supernet, sorted.
pub fn relaxed_supernets() -> Vec<&'static str> {
    crate::registry::names::<dyn SpaceRelaxed>()
}

/// The relaxed supernet registered for the space `space`.
///
/// # Errors
/// None is registered, or two are: the message names the spaces that have one.
pub fn relaxed_of(space: &str) -> Result<&'static dyn SpaceRelaxed, String> {
    crate::registry::lookup::<dyn SpaceRelaxed>(space)
}
