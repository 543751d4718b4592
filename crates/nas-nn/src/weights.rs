//! A module and the SGD that trains it, as a one-shot method holds its supernet: a step on
//! a loss, a scoring copy, bytes to checkpoint and load, parameter bits
//! ([`TrainedWeights`], written once for every supernet). The handles of
//! [`crate::supernet`] and [`crate::relaxed`] are this, behind their traits.

use crate::sgd::SharedSgd;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Gradients, Tensor};
use std::collections::BTreeMap;
use std::fmt;

/// What a one-shot method does with its supernet's weights, whatever the supernet: train
/// them, checkpoint and restore them, compare them.
pub trait TrainedWeights: Send + fmt::Debug {
    /// One SGD step at learning rate `lr` on the gradients of `loss` with respect to the
    /// supernet's weights (other tensors in the graph, such as architecture weights, are
    /// left).
    fn step(&mut self, loss: Tensor<1>, lr: f64);

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

    /// Every float parameter's bits by path (batch-norm running statistics included):
    /// what tells two runs' weights apart, and where.
    fn parameter_bits(&self) -> BTreeMap<String, Vec<u32>>;
}

/// A loss's gradient with respect to a module's float parameters, by parameter path,
/// flattened: a direction in weight space (DARTS's second order perturbs the weights
/// along one).
#[derive(Debug, Clone)]
pub struct WeightGrads(BTreeMap<String, Tensor<1>>);

impl WeightGrads {
    /// The Euclidean norm over every parameter.
    pub fn norm(&self) -> f64 {
        self.0
            .values()
            .map(|g| g.clone().powi_scalar(2).sum().into_scalar::<f64>())
            .sum::<f64>()
            .sqrt()
    }

    /// Each parameter's entries, flattened, by path: what a check against a
    /// hand-computed product reads.
    pub fn values(&self) -> BTreeMap<String, Vec<f32>> {
        self.0
            .iter()
            .map(|(path, g)| {
                let values = g.to_data().try_to_vec::<f32>().unwrap_or_default();
                (path.clone(), values)
            })
            .collect()
    }
}

/// A module on an autodiff device, its SGD state, and what its handle needs beside them
/// (`with`: a supernet's builder, which decodes genotypes; `()` for none).
pub(crate) struct WithSgd<M: Module, X = ()> {
    /// Always `Some` between calls: a step moves the module through the optimizer.
    net: Option<M>,
    sgd: SharedSgd,
    pub(crate) with: X,
}

impl<M: Module, X> fmt::Debug for WithSgd<M, X> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupernetWeights").finish_non_exhaustive()
    }
}

impl<M: Module, X> WithSgd<M, X> {
    pub(crate) fn net(&self) -> &M {
        // Set at construction and put back by every method that takes it.
        self.net.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl<M: Module, X: Copy> WithSgd<M, X> {
    pub(crate) fn new(net: M, momentum: f64, weight_decay: f64, with: X) -> Self {
        WithSgd {
            net: Some(net),
            sgd: SharedSgd::new(momentum, weight_decay),
            with,
        }
    }

    /// A copy with gradient tracking off: on an autodiff device, every forward pass of
    /// tracked weights keeps its graph until a backward pass that scoring never runs.
    pub(crate) fn scoring(&self) -> Self {
        WithSgd {
            net: Some(self.net().clone().no_grad()),
            sgd: self.sgd.clone(),
            with: self.with,
        }
    }

    /// A copy one SGD step further along `loss`'s gradient at learning rate `lr`, with this
    /// optimizer's momentum and weight decay (on a copy of its state): DARTS's unrolled
    /// weights `w - lr * (momentum * v + grad + decay * w)`. `self` is unchanged.
    pub(crate) fn unrolled(&self, loss: Tensor<1>, lr: f64) -> Self {
        let net = self.net().clone();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let mut sgd = self.sgd.clone();
        let net = sgd.step(lr, net, grads);
        WithSgd {
            net: Some(net),
            sgd,
            with: self.with,
        }
    }

    /// The gradient in `grads` of every parameter, by path.
    pub(crate) fn weight_grads(&self, grads: &Gradients) -> WeightGrads {
        let mut collect = CollectGrads {
            grads,
            path: Vec::new(),
            by_path: BTreeMap::new(),
        };
        self.net().visit(&mut collect);
        WeightGrads(collect.by_path)
    }

    /// A copy whose weights moved by `scale` along `direction` (parameters it does not
    /// name stay). The optimizer state is copied.
    pub(crate) fn perturbed(&self, direction: &WeightGrads, scale: f64) -> Self {
        let net = self.net().clone().map(&mut Perturb {
            direction,
            scale,
            path: Vec::new(),
        });
        WithSgd {
            net: Some(net),
            sgd: self.sgd.clone(),
            with: self.with,
        }
    }
}

impl<M: Module + 'static, X: Send + 'static> TrainedWeights for WithSgd<M, X> {
    fn step(&mut self, loss: Tensor<1>, lr: f64) {
        if let Some(net) = self.net.take() {
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            self.net = Some(self.sgd.step(lr, net, grads));
        }
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

/// Collects each parameter's gradient, flattened, by path.
struct CollectGrads<'a> {
    grads: &'a Gradients,
    path: Vec<String>,
    by_path: BTreeMap<String, Tensor<1>>,
}

impl ModuleVisitor for CollectGrads<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = param.val().grad(self.grads) {
            let n = g.shape().num_elements();
            // Kept on the inner backend, as the optimizer keeps its velocities.
            self.by_path.insert(self.path.join("."), g.reshape([n]));
        }
    }
}

/// Moves each parameter named in `direction` by `scale` times its entry.
struct Perturb<'a> {
    direction: &'a WeightGrads,
    scale: f64,
    path: Vec<String>,
}

impl ModuleMapper for Perturb<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(step) = self.direction.0.get(&self.path.join(".")) else {
            return param;
        };
        let scale = self.scale;
        param.map(|t| {
            let require_grad = t.is_require_grad();
            let inner = t.inner();
            let shape = inner.shape();
            let moved = Tensor::from_inner(inner + step.clone().reshape(shape).mul_scalar(scale));
            if require_grad {
                moved.require_grad()
            } else {
                moved
            }
        })
    }
}
