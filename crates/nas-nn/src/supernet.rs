//! How a space brings a weight-sharing supernet for one-shot methods (ENAS): one set of
//! weights holding every candidate op, of which a forward pass runs one child
//! architecture. A space crate implements [`SupernetBuilder`] and registers it with
//! [`register_supernet!`](crate::register_supernet); a one-shot method finds it by the
//! space's name and drives it through [`SharedWeights`], so it knows no space.

use crate::network::{NetSpec, Task, nonzero, space_names, the_one};
use crate::sgd::SharedSgd;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device, Tensor};
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
            net: Some(self.build(spec, device, seed)),
            sgd: SharedSgd::new(momentum, weight_decay),
        })
    }
}

/// [`SharedWeights`] of one supernet type.
struct Shared<B: SupernetBuilder> {
    builder: &'static B,
    /// Always `Some` between calls: a step moves the module through the optimizer.
    net: Option<B::Net>,
    sgd: SharedSgd,
}

impl<B: SupernetBuilder> fmt::Debug for Shared<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedWeights")
            .field("params", &self.net.as_ref().map(Supernet::trainable_params))
            .finish_non_exhaustive()
    }
}

impl<B: SupernetBuilder> Shared<B> {
    fn net(&self) -> &B::Net {
        // Set at construction and restored by every method that takes it.
        self.net.as_ref().unwrap_or_else(|| unreachable!())
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
        Ok(self.net().forward(x, &arch))
    }

    fn step(&mut self, loss: Tensor<1>, lr: f64) {
        if let Some(net) = self.net.take() {
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            self.net = Some(self.sgd.step(lr, net, grads));
        }
    }

    fn scoring(&self) -> Box<dyn SharedWeights> {
        Box::new(Shared {
            builder: self.builder,
            net: Some(self.net().clone().no_grad()),
            sgd: self.sgd.clone(),
        })
    }

    fn save_weights(&self) -> Result<Vec<u8>, String> {
        // `valid()` folds each batch norm's last running-statistics update into its value
        // (burn keeps the latest update aside, per thread, until it is read this way), so
        // the record holds the statistics as they are, not one update behind. The fold is
        // exact and happens in the running supernet too, so saving changes nothing.
        self.net()
            .valid()
            .into_record()
            .into_bytes()
            .map(|bytes| bytes.to_vec())
            .map_err(|e| e.to_string())
    }

    fn save_optimizer(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.sgd.write(&mut out)?;
        Ok(out)
    }

    fn load(&mut self, weights: &[u8], optimizer: &[u8]) -> Result<(), String> {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights.to_vec()))
            .map_err(|e| format!("unreadable shared weights: {e}"))?;
        let net = self
            .net()
            .clone()
            .try_load_record(record)
            .map_err(|e| format!("shared weights of another shape: {e}"))?;
        let mut sgd = self.sgd.clone();
        sgd.read(optimizer, &net)
            .map_err(|e| format!("SGD velocities that do not fit: {e}"))?;
        (self.net, self.sgd) = (Some(net), sgd);
        Ok(())
    }

    fn trainable_params(&self) -> usize {
        self.net().trainable_params()
    }

    fn parameter_bits(&self) -> BTreeMap<String, Vec<u32>> {
        let mut bits = Bits::default();
        self.net().visit(&mut bits);
        bits.by_path
    }
}

/// Every float parameter's bits by path.
#[derive(Default)]
struct Bits {
    by_path: BTreeMap<String, Vec<u32>>,
    path: Vec<String>,
}

impl ModuleVisitor for Bits {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        // A value that cannot be read as f32 (another dtype) records as empty: it
        // still tells its path apart.
        let values = param
            .val()
            .to_data()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        let bits = values.into_iter().map(f32::to_bits).collect();
        self.by_path.insert(self.path.join("."), bits);
    }
}

/// A space's registered supernet.
#[allow(missing_debug_implementations)] // A `dyn SpaceSupernet` has nothing to print.
pub struct SupernetPlugin {
    /// The space's registered name.
    pub space: &'static str,
    pub supernet: &'static dyn SpaceSupernet,
}

inventory::collect!(SupernetPlugin);

/// Registers a [`SupernetBuilder`] (a constant expression) for the space `$space`.
#[macro_export]
macro_rules! register_supernet {
    ($space:expr, $builder:expr $(,)?) => {
        $crate::inventory::submit! {
            $crate::supernet::SupernetPlugin { space: $space, supernet: &$builder }
        }
    };
}

/// The names of the spaces with a registered supernet, sorted.
pub fn supernets() -> Vec<&'static str> {
    space_names(
        inventory::iter::<SupernetPlugin>
            .into_iter()
            .map(|p| p.space),
    )
}

/// The supernet registered for the space `space`.
///
/// # Errors
/// None is registered, or two are: the message names the spaces that have one.
pub fn supernet_of(space: &str) -> Result<&'static dyn SpaceSupernet, String> {
    let all = inventory::iter::<SupernetPlugin>.into_iter();
    the_one(
        all.map(|p| (p.space, p.supernet)),
        space,
        "weight-sharing supernet",
        "register_supernet!",
    )
}
