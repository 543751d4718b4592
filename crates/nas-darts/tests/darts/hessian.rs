//! Second-order DARTS's Hessian-vector product (the paper's central finite difference)
//! against the exact one, worked out by hand on a tiny relaxed network: two choices of
//! three linear candidates each, mixed by the softmax of alpha, under cross-entropy.
//!
//! With `p = softmax(alpha)` per row, `z_n = sum_rk p_rk W_rk x_n`, `g_n = softmax(z_n) -
//! onehot(y_n)` and `L = mean_n CE(z_n, y_n)`:
//! `dL/dp_rk = mean_n g_n . W_rk x_n` and `dL/dalpha_rj = sum_k dL/dp_rk p_rk (d_kj - p_rj)`.
//! Moving the weights along `V`, `d/dt dL/dp_rk = mean_n (J_n zdot_n) . W_rk x_n + g_n .
//! V_rk x_n`, with `zdot_n = sum_rk p_rk V_rk x_n` and `J_n u = s_n * u - s_n (s_n . u)`.

use burn::module::{Module, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use nas_core::{Genotype, Rng, SearchSpace, SpaceError};
use nas_darts::hessian_vector_product;
use nas_nn::{NetSpec, RelaxedBuilder, RelaxedSupernet, RelaxedWeights, SpaceRelaxed, Task};

const ROWS: usize = 2;
const CANDIDATES: usize = 3;
const CLASSES: usize = 3;
const FEATURES: usize = 4;
const BATCH: usize = 5;

/// The tiny relaxed network: `w` is `[ROWS, CANDIDATES, CLASSES, FEATURES]`.
#[derive(Module, Debug)]
struct TinyMixed {
    w: Param<Tensor<4>>,
}

impl RelaxedSupernet for TinyMixed {
    fn forward_mixed(&self, x: Tensor<4>, weights: &Tensor<2>) -> Tensor<2> {
        let mixed = (self.w.val().reshape([ROWS * CANDIDATES, CLASSES, FEATURES])
            * weights.clone().reshape([ROWS * CANDIDATES, 1, 1]))
        .sum_dim(0)
        .reshape([CLASSES, FEATURES]);
        x.reshape([BATCH, FEATURES]).matmul(mixed.transpose())
    }

    fn forward_sampled(&self, x: Tensor<4>, weights: &Tensor<2>, _: &[usize]) -> Tensor<2> {
        self.forward_mixed(x, weights)
    }

    fn trainable_params(&self) -> usize {
        ROWS * CANDIDATES * CLASSES * FEATURES
    }
}

#[derive(Debug)]
struct Tiny;

impl RelaxedBuilder for Tiny {
    type Net = TinyMixed;

    fn alpha_shape(&self, _: &dyn SearchSpace) -> [usize; 2] {
        [ROWS, CANDIDATES]
    }

    fn candidate_names(&self, _: &dyn SearchSpace) -> Vec<String> {
        (0..CANDIDATES).map(|k| format!("linear{k}")).collect()
    }

    fn build(&self, _: &dyn SearchSpace, _: &NetSpec, device: &Device, seed: u64) -> TinyMixed {
        let values = draws(seed, ROWS * CANDIDATES * CLASSES * FEATURES, 0.8);
        let data = TensorData::new(values, [ROWS, CANDIDATES, CLASSES, FEATURES]);
        TinyMixed {
            w: Param::from_tensor(Tensor::from_data(data, device)),
        }
    }

    /// The tiny network stands for no space: no weights choose a genotype of one.
    fn derive(&self, space: &dyn SearchSpace, _: &[f32]) -> Result<Genotype, SpaceError> {
        Err(SpaceError::Parse {
            input: space.name().to_string(),
            reason: "the tiny relaxed network derives no genotype".into(),
        })
    }
}

static TINY: Tiny = Tiny;

/// `n` values uniform in `[-scale, scale)`, from `seed`.
fn draws(seed: u64, n: usize, scale: f64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| ((rng.uniform() * 2.0 - 1.0) * scale) as f32)
        .collect()
}

fn softmax_f64(v: &[f64]) -> Vec<f64> {
    let max = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = v.iter().map(|x| (x - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|x| x / sum).collect()
}

/// `M x` for the `[CLASSES, FEATURES]` block of candidate `rk` in `w`.
fn apply(w: &[f64], rk: usize, x: &[f64]) -> Vec<f64> {
    (0..CLASSES)
        .map(|c| {
            (0..FEATURES)
                .map(|f| w[(rk * CLASSES + c) * FEATURES + f] * x[f])
                .sum()
        })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The exact `dL/dalpha` and its derivative along `v`, in f64 from the formulas above.
fn exact(w: &[f64], v: &[f64], alpha: &[f64], x: &[Vec<f64>], y: &[usize]) -> [Vec<f64>; 2] {
    let p: Vec<f64> = alpha.chunks(CANDIDATES).flat_map(softmax_f64).collect();
    let mut dl_dp = vec![0.0; ROWS * CANDIDATES];
    let mut dl_dp_dot = vec![0.0; ROWS * CANDIDATES];
    for (xn, &yn) in x.iter().zip(y) {
        let mut z = vec![0.0; CLASSES];
        let mut zdot = vec![0.0; CLASSES];
        for (rk, &p_rk) in p.iter().enumerate() {
            for (c, (wx, vx)) in apply(w, rk, xn)
                .into_iter()
                .zip(apply(v, rk, xn))
                .enumerate()
            {
                z[c] += p_rk * wx;
                zdot[c] += p_rk * vx;
            }
        }
        let s = softmax_f64(&z);
        let mut g = s.clone();
        g[yn] -= 1.0;
        let s_zdot = dot(&s, &zdot);
        let gdot: Vec<f64> = s
            .iter()
            .zip(&zdot)
            .map(|(si, ui)| si * ui - si * s_zdot)
            .collect();
        for rk in 0..ROWS * CANDIDATES {
            let (wx, vx) = (apply(w, rk, xn), apply(v, rk, xn));
            dl_dp[rk] += dot(&g, &wx) / BATCH as f64;
            dl_dp_dot[rk] += (dot(&gdot, &wx) + dot(&g, &vx)) / BATCH as f64;
        }
    }
    let through_softmax = |d: &[f64]| -> Vec<f64> {
        (0..ROWS * CANDIDATES)
            .map(|rj| {
                let r = rj / CANDIDATES;
                (0..CANDIDATES)
                    .map(|k| {
                        let rk = r * CANDIDATES + k;
                        let delta = if rk == rj { 1.0 } else { 0.0 };
                        d[rk] * p[rk] * (delta - p[rj])
                    })
                    .sum()
            })
            .collect()
    };
    [through_softmax(&dl_dp), through_softmax(&dl_dp_dot)]
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[test]
fn the_finite_difference_hessian_product_matches_the_exact_one() {
    let device = Device::flex().autodiff();
    let spec = NetSpec {
        task: Task::images([FEATURES, 1, 1], CLASSES),
        width: 1,
        depth: 1,
    };
    let weights = SpaceRelaxed::relaxed_weights(
        &TINY,
        &nas_space::Nb201Space::new(),
        &spec,
        &device,
        3,
        0.9,
        3e-4,
    );
    let alpha = draws(4, ROWS * CANDIDATES, 1.0);
    let x_values = draws(5, BATCH * FEATURES, 1.5);
    let labels: Vec<usize> = (0..BATCH).map(|n| (n * 2 + 1) % CLASSES).collect();
    let x = Tensor::<4>::from_data(
        TensorData::new(x_values.clone(), [BATCH, FEATURES, 1, 1]),
        &device,
    );
    let y = Tensor::<1, Int>::from_data(
        TensorData::new(labels.iter().map(|&l| l as i64).collect(), [BATCH]),
        &device,
    );
    let loss = CrossEntropyLossConfig::new().init(&device);
    let alpha_grad = |w: &dyn RelaxedWeights| -> Result<Vec<f32>, String> {
        let a = Tensor::<2>::from_data(TensorData::new(alpha.clone(), [ROWS, CANDIDATES]), &device)
            .require_grad();
        let logits = w.forward(x.clone(), &softmax(a.clone(), 1));
        let grads = loss.forward(logits, y.clone()).backward();
        a.grad(&grads)
            .map(|g| g.into_data().try_to_vec::<f32>().unwrap())
            .ok_or_else(|| "no gradient".to_string())
    };

    // The direction: the weights' gradient of the loss on other labels, as second-order
    // DARTS moves along the unrolled weights' validation gradient.
    let other = Tensor::<1, Int>::from_data(
        TensorData::new((0..BATCH as i64).map(|n| n % 3).collect(), [BATCH]),
        &device,
    );
    let mix = softmax(
        Tensor::<2>::from_data(TensorData::new(alpha.clone(), [ROWS, CANDIDATES]), &device),
        1,
    );
    let direction = weights.weight_grads(
        &loss
            .forward(weights.forward(x.clone(), &mix), other)
            .backward(),
    );

    let f64s = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
    let w: Vec<f64> = weights.parameter_bits()["w"]
        .iter()
        .map(|&b| f32::from_bits(b) as f64)
        .collect();
    let v = f64s(&direction.values()["w"]);
    let xs: Vec<Vec<f64>> = f64s(&x_values)
        .chunks(FEATURES)
        .map(<[f64]>::to_vec)
        .collect();
    let [gradient, product] = exact(&w, &v, &f64s(&alpha), &xs, &labels);

    // The hand-worked gradient is burn's: the formulas describe this network.
    let autodiff = f64s(&alpha_grad(weights.as_ref()).unwrap());
    let scale = max_abs(&gradient);
    for (a, e) in autodiff.iter().zip(&gradient) {
        assert!((a - e).abs() <= 1e-5 * scale, "dL/dalpha: {a} against {e}");
    }

    let fd = hessian_vector_product(
        weights.as_ref(),
        &direction,
        0.01,
        ROWS * CANDIDATES,
        &alpha_grad,
    )
    .unwrap();
    let scale = max_abs(&product);
    assert!(
        scale > 1e-3,
        "the product is not trivially zero: {product:?}"
    );
    let error = fd
        .iter()
        .zip(&product)
        .map(|(f, e)| (f - e).abs())
        .fold(0.0, f64::max);
    println!("exact {product:?}\nfinite difference {fd:?}\nlargest error {error:e} of {scale:e}");
    assert!(error <= 2e-4 * scale, "largest error {error} of {scale}");

    // No direction, no move.
    let zero = weights.weight_grads(&(weights.forward(x.clone(), &mix).sum() * 0.0).backward());
    let none = hessian_vector_product(
        weights.as_ref(),
        &zero,
        0.01,
        ROWS * CANDIDATES,
        &alpha_grad,
    )
    .unwrap();
    assert_eq!(none, vec![0.0; ROWS * CANDIDATES]);
}
