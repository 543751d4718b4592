//! How a space brings a weight-sharing supernet for one-shot methods (ENAS): one set of
//! weights holding every candidate op, of which a forward pass runs one child
//! architecture. A space crate implements [`SupernetBuilder`] and registers it with
//! [`register_supernet!`](crate::register_supernet); a one-shot method finds it by the
//! space's name and drives it through [`SharedWeights`], so it knows no space.

use crate::network::{NetSpec, Task, nonzero};
use crate::weights::WithSgd;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use nas_core::{Genotype, SearchSpace, SpaceError};
use std::collections::BTreeMap;
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

    /// The supernet on `device`, its weights drawn from `seed` alone.
    fn build(&self, spec: &NetSpec, device: &Device, seed: u64) -> Self::Net;
}

/// A registered supernet, type-erased.
pub trait SpaceSupernet: Send + Sync + fmt::Debug {
    /// See [`SupernetBuilder::check_task`].
    ///
    /// # Errors
    /// Why the task does not fit.
    fn check_task(&self, task: &Task) -> Result<(), String>;

    /// Fresh shared weights on the autodiff `device`, trained by SGD with `momentum` and
    /// `weight_decay`.
    fn shared_weights(
        &'static self,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
        momentum: f64,
        weight_decay: f64,
    ) -> Box<dyn SharedWeights>;
}

/// A supernet's weights and their SGD state, as a one-shot method drives them.
pub trait SharedWeights: Send + fmt::Debug {
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

    /// One SGD step at learning rate `lr` on the gradients of `loss`.
    fn step(&mut self, loss: Tensor<1>, lr: f64);

    /// A copy to score children with: gradient tracking off (on an autodiff device, every
    /// forward pass of tracked weights keeps its graph until a backward pass that scoring
    /// never runs), batch norm still on batch statistics.
    fn scoring(&self) -> Box<dyn SharedWeights>;

    /// The weights (batch-norm statistics included) as bytes [`load`](Self::load) reads.
    ///
    /// # Errors
    /// burn cannot encode them.
    fn save_weights(&self) -> Result<Vec<u8>, String>;

    /// The SGD state (velocities) as bytes [`load`](Self::load) reads.
    ///
    /// # Errors
    /// A velocity that cannot be read back from the device.
    fn save_optimizer(&self) -> Result<Vec<u8>, String>;

    /// Replaces the weights and the SGD state with saved ones.
    ///
    /// # Errors
    /// Bytes that are not a record of these weights ("unreadable", "of another shape"), or
    /// velocities that fit no parameter; the message says which.
    fn load(&mut self, weights: &[u8], optimizer: &[u8]) -> Result<(), String>;

    fn trainable_params(&self) -> usize;

    /// Every float parameter's bits by path (batch-norm running statistics included):
    /// what tells two runs' weights apart, and where.
    fn parameter_bits(&self) -> BTreeMap<String, Vec<u32>>;
}

impl<B: SupernetBuilder> SpaceSupernet for B {
    fn check_task(&self, task: &Task) -> Result<(), String> {
        SupernetBuilder::check_task(self, task)
    }

    fn shared_weights(
        &'static self,
        spec: &NetSpec,
        device: &Device,
        seed: u64,
        momentum: f64,
        weight_decay: f64,
    ) -> Box<dyn SharedWeights> {
        Box::new(Shared {
            builder: self,
            weights: WithSgd::new(self.build(spec, device, seed), momentum, weight_decay),
        })
    }
}

/// [`SharedWeights`] of one supernet type.
struct Shared<B: SupernetBuilder> {
    builder: &'static B,
    weights: WithSgd<B::Net>,
}

impl<B: SupernetBuilder> fmt::Debug for Shared<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedWeights")
            .field("params", &self.weights.net().trainable_params())
            .finish_non_exhaustive()
    }
}

impl<B: SupernetBuilder> SharedWeights for Shared<B> {
    fn forward(
        &self,
        space: &dyn SearchSpace,
        g: &Genotype,
        x: Tensor<4>,
    ) -> Result<Tensor<2>, SpaceError> {
        let arch = self.builder.decode(space, g)?;
        Ok(self.weights.net().forward(x, &arch))
    }

    fn step(&mut self, loss: Tensor<1>, lr: f64) {
        self.weights.step(loss, lr);
    }

    fn scoring(&self) -> Box<dyn SharedWeights> {
        Box::new(Shared {
            builder: self.builder,
            weights: self.weights.scoring(),
        })
    }

    fn save_weights(&self) -> Result<Vec<u8>, String> {
        self.weights.save_weights()
    }

    fn save_optimizer(&self) -> Result<Vec<u8>, String> {
        self.weights.save_optimizer()
    }

    fn load(&mut self, weights: &[u8], optimizer: &[u8]) -> Result<(), String> {
        self.weights.load(weights, optimizer)
    }

    fn trainable_params(&self) -> usize {
        self.weights.net().trainable_params()
    }

    fn parameter_bits(&self) -> BTreeMap<String, Vec<u32>> {
        self.weights.parameter_bits()
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
