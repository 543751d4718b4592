//! A module and the SGD that trains it, as a one-shot method holds its supernet: a step on
//! a loss, a scoring copy, bytes to checkpoint and load, parameter bits. The supernet
//! handles of [`crate::supernet`] and [`crate::relaxed`] are this, behind their traits.

use crate::sgd::SharedSgd;
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Tensor};
use std::collections::BTreeMap;

/// A module on an autodiff device and its SGD state.
#[derive(Debug)]
pub(crate) struct WithSgd<M: Module> {
    /// Always `Some` between calls: a step moves the module through the optimizer.
    net: Option<M>,
    sgd: SharedSgd,
}

impl<M: Module> WithSgd<M> {
    pub(crate) fn new(net: M, momentum: f64, weight_decay: f64) -> Self {
        WithSgd {
            net: Some(net),
            sgd: SharedSgd::new(momentum, weight_decay),
        }
    }

    pub(crate) fn net(&self) -> &M {
        // Set at construction and put back by every method that takes it.
        self.net.as_ref().unwrap_or_else(|| unreachable!())
    }

    /// One SGD step at learning rate `lr` on the gradients of `loss` (parameters of the
    /// module only: other tensors in the graph, such as architecture weights, are left).
    pub(crate) fn step(&mut self, loss: Tensor<1>, lr: f64) {
        if let Some(net) = self.net.take() {
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            self.net = Some(self.sgd.step(lr, net, grads));
        }
    }

    /// A copy with gradient tracking off: on an autodiff device, every forward pass of
    /// tracked weights keeps its graph until a backward pass that scoring never runs.
    pub(crate) fn scoring(&self) -> Self {
        WithSgd {
            net: Some(self.net().clone().no_grad()),
            sgd: self.sgd.clone(),
        }
    }

    pub(crate) fn save_weights(&self) -> Result<Vec<u8>, String> {
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

    pub(crate) fn save_optimizer(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.sgd.write(&mut out)?;
        Ok(out)
    }

    pub(crate) fn load(&mut self, weights: &[u8], optimizer: &[u8]) -> Result<(), String> {
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

    pub(crate) fn parameter_bits(&self) -> BTreeMap<String, Vec<u32>> {
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
