//! Second-order DARTS's Hessian-vector product, by the paper's central finite difference
//! (Liu et al. 2019, eq. 8): the mixed second derivative of the training loss, along a
//! direction in weight space, from two first-order gradients. burn's autodiff has no
//! second derivatives, and two extra backward passes are what the original code pays too.

use nas_nn::{RelaxedWeights, WeightGrads};

/// The architecture weights' gradient of the training loss at the weights given.
pub type AlphaGrad<'a, E> = dyn Fn(&dyn RelaxedWeights) -> Result<Vec<f32>, E> + 'a;

/// `(g(w + eps v) - g(w - eps v)) / 2 eps`, approximately `d/dw (dL/dalpha) . v`: `g` is
/// `alpha_grad`, the architecture weights' gradient (`len` of them) of the training loss
/// at the weights it is given, `v` the `direction`, and `eps = radius / |v|` (the paper
/// takes `radius = 0.01`). Zeros where `v` vanishes or is not finite, as there is no
/// direction to move along.
///
/// # Errors
/// `alpha_grad`'s.
pub fn hessian_vector_product<E>(
    weights: &dyn RelaxedWeights,
    direction: &WeightGrads,
    radius: f64,
    len: usize,
    alpha_grad: &AlphaGrad<'_, E>,
) -> Result<Vec<f64>, E> {
    let norm = direction.norm();
    if !(norm > 0.0 && norm.is_finite()) {
        return Ok(vec![0.0; len]);
    }
    let eps = radius / norm;
    let plus = alpha_grad(weights.perturbed(direction, eps).as_ref())?;
    let minus = alpha_grad(weights.perturbed(direction, -eps).as_ref())?;
    Ok(plus
        .iter()
        .zip(&minus)
        .map(|(p, m)| (*p as f64 - *m as f64) / (2.0 * eps))
        .collect())
}
