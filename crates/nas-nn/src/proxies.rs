//! The proxies themselves: scores of an untrained network, one forward and backward pass
//! each (Abdelfattah et al. 2021, "Zero-Cost Proxies for Lightweight NAS").
//!
//! All sum over the weights of convolutions and linear layers (parameters of rank 2 or
//! more), as the reference code does; biases and batch-norm terms are left out.

use super::eigen::symmetric_eigenvalues;
use crate::network::Classifier;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::Gradients;
use burn::tensor::{Device, FloatDType, Int, Tensor};

/// What [`jacob_cov`] scores when the correlation of the input gradients is undefined (a
/// cell whose output does not depend on its input gives all-zero gradients): below every
/// defined score, and finite so it can be recorded.
pub const JACOB_COV_UNDEFINED: f64 = -1e12;

/// Takes every parameter's absolute value in double precision and tracks its gradient.
#[derive(Debug)]
struct AbsF64;

impl ModuleMapper for AbsF64 {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| t.abs().cast(FloatDType::F64).detach().require_grad())
    }
}

/// Sums a per-weight quantity of each weight and its gradient.
struct WeightSums<'a> {
    grads: &'a Gradients,
    /// Σ |θ ⊙ g|.
    saliency: f64,
    /// Σ ‖g‖₂ over weight tensors.
    grad_norm: f64,
}

impl ModuleVisitor for WeightSums<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if D < 2 {
            return;
        }
        let weight = param.val();
        let Some(grad) = weight.grad(self.grads) else {
            return;
        };
        let weight = weight.inner();
        self.grad_norm += grad
            .clone()
            .cast(FloatDType::F64)
            .powi_scalar(2)
            .sum()
            .into_scalar::<f64>()
            .sqrt();
        self.saliency += (weight.cast(FloatDType::F64) * grad.cast(FloatDType::F64))
            .abs()
            .sum()
            .into_scalar::<f64>();
    }
}

fn weight_sums<M: Module>(model: &M, grads: &Gradients) -> (f64, f64) {
    let mut sums = WeightSums {
        grads,
        saliency: 0.0,
        grad_norm: 0.0,
    };
    model.visit(&mut sums);
    (sums.saliency, sums.grad_norm)
}

/// synflow (Tanaka et al. 2020): the network without batch norm, every weight replaced by
/// its absolute value, in double precision; `R` = the sum of the outputs for an all-ones
/// input; the score is Σ |θ ⊙ ∂R/∂θ|. Needs no data: only the input shape.
///
/// Double precision because `R` is a product over the network's depth of sums of positive
/// weights: at C=16, N=5 it can pass single precision's range.
///
/// `model` is built on the autodiff `device`, without batch norm; `input` is
/// `[channels, height, width]`.
pub fn synflow<N: Classifier>(model: N, input: [usize; 3], device: &Device) -> f64 {
    let model = model.map(&mut AbsF64);
    let [c, h, w] = input;
    let ones = Tensor::<4>::ones([1, c, h, w], device)
        .cast(FloatDType::F64)
        .detach();
    let r = model.forward(ones).sum();
    let grads = r.backward();
    weight_sums(&model, &grads).0
}

/// grad_norm and snip from one minibatch's cross-entropy gradient (batch norm in training
/// mode, as the network trains): grad_norm = Σ over weight tensors of ‖∂L/∂θ‖₂, snip
/// (Lee et al. 2019) = Σ |θ ⊙ ∂L/∂θ|. Returns `(grad_norm, snip)`.
///
/// `model` is built on the autodiff `device`.
pub fn gradient_scores<N: Classifier>(
    model: N,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
    device: &Device,
) -> (f64, f64) {
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let loss = loss_fn.forward(
        model.forward(images.to_device(device).autodiff()),
        labels.to_device(device),
    );
    let grads = loss.backward();
    let (snip, grad_norm) = weight_sums(&model, &grads);
    (grad_norm, snip)
}

/// jacob_cov (Mellor et al. 2020, "NAS without training", first version): the gradients of
/// each image's summed outputs with respect to its input, their correlation matrix across
/// the minibatch, and `-Σ (ln(λ + k) + 1/(λ + k))` over its eigenvalues λ, k = 1e-5. A
/// network that tells images apart at initialization has decorrelated gradients.
///
/// `model` is built on the autodiff `device`.
pub fn jacob_cov<N: Classifier>(model: N, images: Tensor<4>, device: &Device) -> f64 {
    let [b, c, h, w] = images.dims();
    let x = images.to_device(device).autodiff().detach().require_grad();
    let grads = model.forward(x.clone()).sum().backward();
    let Some(jacobian) = x.grad(&grads) else {
        return JACOB_COV_UNDEFINED;
    };
    let Ok(values) = jacobian
        .cast(FloatDType::F64)
        .reshape([b, c * h * w])
        .into_data()
        .try_to_vec::<f64>()
    else {
        return JACOB_COV_UNDEFINED;
    };
    let Some(corr) = correlation_matrix(&values, b) else {
        return JACOB_COV_UNDEFINED;
    };
    let k = 1e-5;
    -symmetric_eigenvalues(corr, b)
        .iter()
        .map(|&l| (l + k).ln() + 1.0 / (l + k))
        .sum::<f64>()
}

/// The `rows x rows` correlation matrix of the rows of `values` (numpy's `corrcoef`);
/// `None` when a row is constant.
fn correlation_matrix(values: &[f64], rows: usize) -> Option<Vec<f64>> {
    let cols = values.len() / rows.max(1);
    let mut centred: Vec<Vec<f64>> = Vec::with_capacity(rows);
    for r in 0..rows {
        let row = &values[r * cols..(r + 1) * cols];
        let mean = row.iter().sum::<f64>() / cols as f64;
        let c: Vec<f64> = row.iter().map(|v| v - mean).collect();
        let norm = c.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return None;
        }
        centred.push(c.iter().map(|v| v / norm).collect());
    }
    let mut corr = vec![0.0; rows * rows];
    for i in 0..rows {
        for j in i..rows {
            let dot: f64 = centred[i].iter().zip(&centred[j]).map(|(a, b)| a * b).sum();
            corr[i * rows + j] = dot;
            corr[j * rows + i] = dot;
        }
    }
    Some(corr)
}

#[cfg(test)]
mod tests {
    #[test]
    fn correlation_of_proportional_rows_is_one() {
        let corr =
            super::correlation_matrix(&[1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 3.0, 2.0, 1.0], 3).unwrap();
        assert!((corr[1] - 1.0).abs() < 1e-12);
        assert!((corr[2] + 1.0).abs() < 1e-12);
        assert!(super::correlation_matrix(&[1.0, 1.0, 1.0, 2.0], 2).is_none());
    }
}
