//! How a space brings a weight-sharing supernet for one-shot methods (ENAS): one set of
//! weights holding every candidate op, of which a forward pass runs one child
//! architecture. A space crate implements [`SupernetBuilder`] and registers it with
//! [`register_supernet!`](crate::register_supernet); a one-shot method finds it by the
//! space's name and drives it through [`SharedWeights`], so it knows no space.

use crate::network::{NetSpec, Task, nonzero};
use crate::weights::{TrainedWeights, WithSgd};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use nas_core::{Genotype, SearchSpace, SpaceError};
use std::fmt;

/// A supernet: the shared weights of every architecture of a space.
pub trait Supernet: Module + 'static {
    /// A decoded genotype, as the forward pass takes it.
    type Arch;

    /// Logits `[batch, classes]` of the child `arch` under the shared weights.
    fn forward(&self, x: Tensor<4>, arch: &Self::Arch) -> Tensor<2>;

    /// Trainable parameters (every candidate op's; running statistics excluded).
    fn trainable_params(&self) -> usize;
}

/// What a space registers to offer a supernet.
pub trait SupernetBuilder: Send + Sync + fmt::Debug + 'static {
    type Net: Supernet;

    /// The child architecture of `g`, a genotype of `space`.
    ///
    /// # Errors
    /// A genotype the space cannot decode.
    fn decode(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
    ) -> Result<<Self::Net as Supernet>::Arch, SpaceError>;

    /// Why the supernet cannot take `task`'s images, if it cannot.
    ///
    /// # Errors
    /// The reason.
    fn check_task(&self, task: &Task) -> Result<(), String> {
        nonzero(task)
    }

    /// The supernet of `space` (whose config may size it: the recurrent cell's nodes) on
    /// `device`, its weights drawn from `seed` alone.
    fn build(
        &self,
        space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
    ) -> Self::Net;
}

/// A registered supernet, type-erased.
pub trait SpaceSupernet: Send + Sync + fmt::Debug {
    /// See [`SupernetBuilder::check_task`].
    ///
    /// # Errors
    /// Why the task does not fit.
    fn check_task(&self, task: &Task) -> Result<(), String>;

    /// Fresh shared weights of `space`'s supernet on the autodiff `device`, trained by SGD
    /// with `momentum` and `weight_decay`.
    fn shared_weights(
        &'static self,
        space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
        momentum: f64,
        weight_decay: f64,
    ) -> Box<dyn SharedWeights>;
}

/// A supernet's weights and their SGD state, as a one-shot method drives them.
pub trait SharedWeights: TrainedWeights {
    /// Logits of the child `g` (a genotype of `space`) under the shared weights.
    ///
    /// # Errors
    /// A genotype the space cannot decode.
    fn forward(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        x: Tensor<4>,
    ) -> Result<Tensor<2>, SpaceError>;

    /// A copy to score children with: gradient tracking off (on an autodiff device, every
    /// forward pass of tracked weights keeps its graph until a backward pass that scoring
    /// never runs), batch norm still on batch statistics.
    fn scoring(&self) -> Box<dyn SharedWeights>;

    fn trainable_params(&self) -> usize;
}

impl<B: SupernetBuilder> SpaceSupernet for B {
    fn check_task(&self, task: &Task) -> Result<(), String> {
        SupernetBuilder::check_task(self, task)
    }

    fn shared_weights(
        &'static self,
        space: &dyn SearchSpace,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
        momentum: f64,
        weight_decay: f64,
    ) -> Box<dyn SharedWeights> {
        let net = self.build(space, spec, device, seed);
        Box::new(WithSgd::new(net, momentum, weight_decay, self))
    }
}

/// The weights of one supernet type; `with` is its builder, which decodes genotypes.
impl<B: SupernetBuilder> SharedWeights for WithSgd<B::Net, &'static B> {
    fn forward(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        x: Tensor<4>,
    ) -> Result<Tensor<2>, SpaceError> {
        let arch = self.with.decode(space, g)?;
        Ok(self.net().forward(x, &arch))
    }

    fn scoring(&self) -> Box<dyn SharedWeights> {
        Box::new(WithSgd::scoring(self))
    }

    fn trainable_params(&self) -> usize {
        self.net().trainable_params()
    }
}

/// Registers a [`SupernetBuilder`] (a constant expression) for the space `$space`.
#[macro_export]
macro_rules! register_supernet {
    ($space:expr, $builder:expr $(,)?) => {
        $crate::inventory::submit! {
            $crate::registry::SpacePlugin::<dyn $crate::SpaceSupernet> {
                space: $space,
                plugin: &$builder,
            }
        }
    };
}

/// The names of the spaces with a registered supernet, sorted.
pub fn supernets() -> Vec<&'static str> {
    crate::registry::names::<dyn SpaceSupernet>()
}

/// The supernet registered for the space `space`.
///
/// # Errors
/// None is registered, or two are: the message names the spaces that have one.
pub fn supernet_of(space: &str) -> Result<&'static dyn SpaceSupernet, String> {
    crate::registry::lookup::<dyn SpaceSupernet>(space)
}
