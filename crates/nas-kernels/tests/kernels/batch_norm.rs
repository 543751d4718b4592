//! The batch-norm kernels against a plain f64 reference, whose backward pass is itself
//! checked by finite differences.

use nas_kernels::{BatchNormShape, batch_norm_backward, batch_norm_forward};
use proptest::prelude::*;

const EPS: f64 = 1e-5;

/// Per element: the channel of element `i`.
fn channel(s: &BatchNormShape, i: usize) -> usize {
    (i / s.plane) % s.channels
}

fn stats(s: &BatchNormShape, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = (s.batch * s.plane) as f64;
    let mut mean = vec![0.0; s.channels];
    let mut var = vec![0.0; s.channels];
    for (i, v) in x.iter().enumerate() {
        mean[channel(s, i)] += v / n;
    }
    for (i, v) in x.iter().enumerate() {
        var[channel(s, i)] += (v - mean[channel(s, i)]).powi(2) / n;
    }
    (mean, var)
}

fn reference_forward(s: &BatchNormShape, x: &[f64], gamma: &[f64], beta: &[f64]) -> Vec<f64> {
    let (mean, var) = stats(s, x);
    x.iter()
        .enumerate()
        .map(|(i, v)| {
            let c = channel(s, i);
            (v - mean[c]) / (var[c] + EPS).sqrt() * gamma[c] + beta[c]
        })
        .collect()
}

/// The textbook backward pass, term by term.
fn reference_backward(s: &BatchNormShape, x: &[f64], gamma: &[f64], dy: &[f64]) -> [Vec<f64>; 3] {
    let (mean, var) = stats(s, x);
    let n = (s.batch * s.plane) as f64;
    let xhat: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| (v - mean[channel(s, i)]) / (var[channel(s, i)] + EPS).sqrt())
        .collect();
    let mut dbeta = vec![0.0; s.channels];
    let mut dgamma = vec![0.0; s.channels];
    for i in 0..x.len() {
        dbeta[channel(s, i)] += dy[i];
        dgamma[channel(s, i)] += dy[i] * xhat[i];
    }
    let dx = (0..x.len())
        .map(|i| {
            let c = channel(s, i);
            gamma[c] / (var[c] + EPS).sqrt() * (dy[i] - dbeta[c] / n - xhat[i] * dgamma[c] / n)
        })
        .collect();
    [dx, dgamma, dbeta]
}

fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 1000.0) - 1.0)
        .collect()
}

fn wide(v: &[f32]) -> Vec<f64> {
    v.iter().map(|x| f64::from(*x)).collect()
}

fn assert_close(what: &str, got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(*g) - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{k}]: got {g}, want {w}"
        );
    }
}

#[test]
fn the_reference_backward_pass_matches_finite_differences() {
    let s = BatchNormShape {
        batch: 3,
        channels: 2,
        plane: 4,
    };
    let x = wide(&values(s.len(), 1));
    let gamma = [0.7, -1.3];
    let beta = [0.2, 0.5];
    let w = wide(&values(s.len(), 2));
    let loss = |x: &[f64], gamma: &[f64], beta: &[f64]| -> f64 {
        reference_forward(&s, x, gamma, beta)
            .iter()
            .zip(&w)
            .map(|(y, w)| y * w)
            .sum()
    };
    let [dx, dgamma, dbeta] = reference_backward(&s, &x, &gamma, &w);
    let h = 1e-6;
    let numeric = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
    for i in 0..x.len() {
        let d = numeric(&|e| {
            let mut x = x.clone();
            x[i] += e;
            loss(&x, &gamma, &beta)
        });
        assert!((d - dx[i]).abs() < 1e-6, "dx[{i}]: {d} vs {}", dx[i]);
    }
    for c in 0..2 {
        let dg = numeric(&|e| {
            let mut g = gamma;
            g[c] += e;
            loss(&x, &g, &beta)
        });
        let db = numeric(&|e| {
            let mut b = beta;
            b[c] += e;
            loss(&x, &gamma, &b)
        });
        assert!((dg - dgamma[c]).abs() < 1e-6 && (db - dbeta[c]).abs() < 1e-6);
    }
}

fn check(s: &BatchNormShape) {
    let x = values(s.len(), 3);
    let gamma = values(s.channels, 4);
    let beta = values(s.channels, 5);
    let dy = values(s.len(), 6);
    let out = batch_norm_forward(&x, &gamma, &beta, EPS, s);
    let (mean, var) = stats(s, &wide(&x));
    assert_close(
        "output",
        &out.output,
        &reference_forward(s, &wide(&x), &wide(&gamma), &wide(&beta)),
        1e-4,
    );
    assert_close("mean", &out.mean, &mean, 1e-5);
    assert_close("variance", &out.variance, &var, 1e-5);
    let grads = batch_norm_backward(&x, &gamma, &out.mean, &out.variance, EPS, &dy, s);
    let [dx, dgamma, dbeta] = reference_backward(s, &wide(&x), &wide(&gamma), &wide(&dy));
    assert_close("input gradient", &grads.input, &dx, 1e-3);
    assert_close("gamma gradient", &grads.gamma, &dgamma, 1e-4);
    assert_close("beta gradient", &grads.beta, &dbeta, 1e-4);
}

proptest! {
    #[test]
    fn kernels_match_the_reference(batch in 1usize..5, channels in 1usize..5, plane in 1usize..30) {
        prop_assume!(batch * plane > 1);
        check(&BatchNormShape { batch, channels, plane });
    }
}

#[test]
fn results_are_the_same_bits_on_any_number_of_threads() {
    let s = BatchNormShape {
        batch: 7,
        channels: 5,
        plane: 49,
    };
    let x = values(s.len(), 7);
    let gamma = values(s.channels, 8);
    let beta = values(s.channels, 9);
    let dy = values(s.len(), 10);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let out = batch_norm_forward(&x, &gamma, &beta, EPS, &s);
            let grads = batch_norm_backward(&x, &gamma, &out.mean, &out.variance, EPS, &dy, &s);
            (out, grads)
        })
    };
    assert_eq!(run(1), run(3));
}
