//! SGD with momentum and weight decay on a supernet's shared weights, with a state that
//! can be saved at an epoch boundary and restored exactly (one-shot methods checkpoint
//! their search phase with it).
//!
//! burn's `ModuleOptimizer` does this arithmetic too, and this file repeats its operations
//! in the same order (weight decay `p * wd + g`, velocity `g * (1 - dampening) + v * m`, the
//! first velocity the gradient itself, then `p - v * lr`), so a search gives the same bits
//! with either. It is not used because its `load_record` rebuilds the velocities on
//! `Device::default()`, which is the wgpu device whenever the wgpu backend is compiled in
//! (the `nas` binary is): a resumed CPU search would start a GPU runtime, or panic where
//! there is none. Here a restored velocity stays plain data until the step that uses it,
//! which puts it on its gradient's device.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use std::collections::BTreeMap;

/// SGD on a module's float parameters, velocities keyed by parameter path (stable across
/// processes, unlike parameter ids).
#[derive(Debug, Clone)]
pub struct SharedSgd {
    /// Stored as burn stores them: momentum in `f32`, dampening in `f64`.
    momentum: f32,
    dampening: f64,
    weight_decay: f32,
    /// Velocities a step has used.
    velocity: BTreeMap<String, Tensor<1>>,
    /// Restored velocities no step has used yet (paths not in `velocity`).
    restored: BTreeMap<String, Vec<f32>>,
}

impl SharedSgd {
    /// Plain momentum (no dampening, not Nesterov), weight decay added to the gradient.
    pub fn new(momentum: f64, weight_decay: f64) -> Self {
        SharedSgd {
            momentum: momentum as f32,
            dampening: 0.0,
            weight_decay: weight_decay as f32,
            velocity: BTreeMap::new(),
            restored: BTreeMap::new(),
        }
    }

    /// Whether every velocity is still as [`read`](Self::read) restored it (no step has
    /// used one since).
    pub fn is_untouched_restore(&self) -> bool {
        self.velocity.is_empty() && !self.restored.is_empty()
    }

    /// One step at learning rate `lr` on every parameter of `module` that has a gradient.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, mut grads: GradientsParams) -> M {
        module.map(&mut Stepper {
            sgd: self,
            grads: &mut grads,
            lr,
            path: Vec::new(),
        })
    }

    /// The velocities, in path order: a `u64` count, then per parameter its path (`u64`
    /// length, UTF-8), its length and its values (`u64`, then little-endian `f32`s).
    ///
    /// # Errors
    /// A velocity whose values cannot be read as `f32`.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), String> {
        let mut all: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
        for (path, v) in &self.velocity {
            let values = v
                .to_data()
                .try_to_vec::<f32>()
                .map_err(|e| format!("the velocity of `{path}`: {e:?}"))?;
            all.insert(path, values);
        }
        for (path, values) in &self.restored {
            all.insert(path, values.clone());
        }
        put_u64(out, all.len() as u64);
        for (path, values) in all {
            put_u64(out, path.len() as u64);
            out.extend_from_slice(path.as_bytes());
            put_u64(out, values.len() as u64);
            for x in values {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        Ok(())
    }

    /// Reads velocities [`write`](Self::write) wrote, each checked against a float parameter
    /// of `module` of the same path and size.
    ///
    /// # Errors
    /// Bytes cut short or left over, a path that is not UTF-8, or a velocity that fits no
    /// parameter of `module` (named).
    pub fn read<M: Module>(&mut self, bytes: &[u8], module: &M) -> Result<(), String> {
        let mut sizes = Sizes::default();
        module.visit(&mut sizes);
        let mut r = Reader { bytes, at: 0 };
        let count = r.u64()?;
        let mut restored = BTreeMap::new();
        for _ in 0..count {
            let len = r.size()?;
            let path = std::str::from_utf8(r.take(len)?)
                .map_err(|_| "a velocity's parameter path is not UTF-8".to_string())?
                .to_string();
            let n = r.size()?;
            match sizes.by_path.get(&path) {
                Some(&size) if size == n => {}
                Some(&size) => {
                    return Err(format!(
                        "the velocity of `{path}` has {n} values, the parameter {size}"
                    ));
                }
                None => return Err(format!("a velocity for `{path}`, no such parameter")),
            }
            let raw = r.take(n.checked_mul(4).ok_or("a velocity length overflows")?)?;
            let values = raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            restored.insert(path, values);
        }
        if r.at != bytes.len() {
            return Err(format!(
                "{} bytes after the last velocity",
                bytes.len() - r.at
            ));
        }
        self.velocity.clear();
        self.restored = restored;
        Ok(())
    }
}

/// The step itself, parameter by parameter.
struct Stepper<'a> {
    sgd: &'a mut SharedSgd,
    grads: &'a mut GradientsParams,
    lr: f64,
    path: Vec<String>,
}

impl ModuleMapper for Stepper<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let weights = tensor.inner();
        let shape = weights.shape();
        let n = shape.num_elements();
        let sgd = &mut *self.sgd;
        let grad = weights.clone().mul_scalar(sgd.weight_decay).add(grad);
        let path = self.path.join(".");
        let previous = sgd.velocity.remove(&path).or_else(|| {
            let values = sgd.restored.remove(&path)?;
            Some(Tensor::from_data(
                TensorData::new(values, [n]),
                &grad.device(),
            ))
        });
        let velocity = match previous {
            Some(previous) => grad
                .mul_scalar(1.0 - sgd.dampening)
                .add(previous.reshape(shape).mul_scalar(sgd.momentum)),
            None => grad,
        };
        sgd.velocity.insert(path, velocity.clone().reshape([n]));
        let mut updated = Tensor::from_inner(weights - velocity.mul_scalar(self.lr));
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

/// Element counts of a module's float parameters by path.
#[derive(Default)]
struct Sizes {
    by_path: BTreeMap<String, usize>,
    path: Vec<String>,
}

impl ModuleVisitor for Sizes {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.by_path
            .insert(self.path.join("."), param.lazy_shape().num_elements());
    }
}

/// Appends `x` little-endian.
pub fn put_u64(out: &mut Vec<u8>, x: u64) {
    out.extend_from_slice(&x.to_le_bytes());
}

/// Reads a byte string front to back; every read says what is missing instead of panicking.
#[derive(Debug)]
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub at: usize,
}

impl<'a> Reader<'a> {
    /// The next `n` bytes.
    ///
    /// # Errors
    /// Fewer than `n` bytes left.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| {
                format!(
                    "cut short: {n} bytes wanted at offset {}, {} left",
                    self.at,
                    self.bytes.len() - self.at
                )
            })?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// A little-endian `u64`.
    ///
    /// # Errors
    /// Fewer than 8 bytes left.
    pub fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A `u64` length, as a `usize`.
    ///
    /// # Errors
    /// Too few bytes, or a length past `usize`.
    pub fn size(&mut self) -> Result<usize, String> {
        let n = self.u64()?;
        usize::try_from(n).map_err(|_| format!("a length of {n} bytes"))
    }

    /// A length-prefixed section.
    ///
    /// # Errors
    /// Too few bytes.
    pub fn section(&mut self) -> Result<&'a [u8], String> {
        let n = self.size()?;
        self.take(n)
    }
}
