//! The controller's hand-written gradient against central finite differences of
//! `Policy::loss`, block by block, over several decision shapes, random parameters and
//! batches, with and without tanh clipping, with and without the entropy bonus.

use nas_core::Rng;
use nas_rl::policy::{Block, Layout, Policy, Sample, Shaping};

/// A batch of `n` random actions, with advantages in `[-2, 2]` (one of them 0).
fn batch(choices: &[usize], n: usize, rng: &mut Rng) -> Vec<Sample> {
    (0..n)
        .map(|i| Sample {
            actions: choices.iter().map(|&k| rng.index(k) as u32).collect(),
            advantage: if i == 1 {
                0.0
            } else {
                rng.uniform_in(-2.0, 2.0)
            },
        })
        .collect()
}

/// The names of a layout's blocks, in [`Layout::blocks`] order.
fn names(l: &Layout) -> Vec<String> {
    let mut v = vec!["lstm_w".to_string(), "lstm_b".into(), "start".into()];
    v.extend((0..l.embedding.len()).map(|d| format!("embedding[{d}]")));
    v.extend((0..l.choices.len()).map(|d| format!("head_w[{d}]")));
    v.extend((0..l.choices.len()).map(|d| format!("head_b[{d}]")));
    v
}

/// Checks every parameter of `policy`'s gradient at `p` on `batch`; every block whose
/// parameters can change the loss must have a finite difference above `1e-4` somewhere,
/// so that a gradient of zero cannot pass.
fn check(policy: &Policy, p: &[f32], batch: &[Sample], beta: f64, case: &str) {
    let (loss, grad) = policy.loss_and_grad(p, batch, beta).unwrap();
    assert_eq!(grad.len(), policy.layout.len, "{case}");
    let p64: Vec<f64> = p.iter().map(|&v| f64::from(v)).collect();
    let reference = policy.loss(&p64, batch, beta);
    assert!(
        (loss - reference).abs() <= 1e-12 * (1.0 + reference.abs()),
        "{case}: loss {loss} vs {reference}"
    );
    let eps = 1e-6;
    let blocks: Vec<Block> = policy.layout.blocks();
    for (b, name) in blocks.iter().zip(names(&policy.layout)) {
        let mut largest = 0f64;
        for i in b.offset..b.offset + b.rows * b.cols {
            let mut q = p64.clone();
            q[i] = p64[i] + eps;
            let plus = policy.loss(&q, batch, beta);
            q[i] = p64[i] - eps;
            let minus = policy.loss(&q, batch, beta);
            let fd = (plus - minus) / (2.0 * eps);
            let g = f64::from(grad[i]);
            largest = largest.max(fd.abs());
            assert!(
                (fd - g).abs() <= 1e-7 + 1e-5 * fd.abs(),
                "{case}: {name}, parameter {i}: gradient {g}, finite difference {fd}"
            );
        }
        // A head of a one-choice decision cannot change the loss (its softmax is 1).
        let inert = name.starts_with("head") && {
            let d: usize = name[7..name.len() - 1].parse().unwrap();
            policy.layout.choices[d] == 1
        };
        if !inert {
            assert!(largest > 1e-4, "{case}: {name} never moves the loss");
        }
    }
}

#[test]
fn the_gradient_matches_finite_differences_for_every_block() {
    let shapes: [(usize, Vec<usize>); 5] = [
        (4, vec![3, 2]),
        (8, vec![3, 5, 2, 4]),
        (3, vec![4]),
        (5, vec![5, 5, 5, 5, 5, 5]),
        (6, vec![2, 1, 3]),
    ];
    let mut rng = Rng::new(11);
    for (hidden, choices) in shapes {
        for (temperature, tanh_constant) in [(1.0, 0.0), (1.5, 2.5), (0.7, 1.1)] {
            for beta in [0.0, 0.3] {
                for range in [0.5, 1.5] {
                    let policy = Policy::new(
                        Layout::new(hidden, choices.clone()),
                        Shaping {
                            temperature,
                            tanh_constant,
                        },
                    );
                    let p = policy.init(range, &mut rng);
                    let n = 1 + rng.index(4);
                    let b = batch(&choices, n, &mut rng);
                    let case = format!(
                        "H {hidden}, choices {choices:?}, T {temperature}, C {tanh_constant}, \
                         entropy {beta}, init {range}, batch {n}"
                    );
                    check(&policy, &p, &b, beta, &case);
                }
            }
        }
    }
}

/// Only the entropy bonus: a batch whose advantages are all zero still has a gradient,
/// and it raises the entropy (a small step down the loss raises the summed entropy).
#[test]
fn the_entropy_bonus_alone_has_a_gradient_that_flattens_the_policy() {
    let policy = Policy::new(
        Layout::new(6, vec![4, 3, 5]),
        Shaping {
            temperature: 1.0,
            tanh_constant: 2.5,
        },
    );
    let mut rng = Rng::new(3);
    let p = policy.init(1.0, &mut rng);
    let mut b = batch(&[4, 3, 5], 3, &mut rng);
    for s in &mut b {
        s.advantage = 0.0;
    }
    check(&policy, &p, &b, 0.5, "entropy only");
    let (loss, grad) = policy.loss_and_grad(&p, &b, 0.5).unwrap();
    let stepped: Vec<f32> = p.iter().zip(&grad).map(|(&v, &g)| v - 1e-2 * g).collect();
    let (after, _) = policy.loss_and_grad(&stepped, &b, 0.5).unwrap();
    assert!(after < loss, "{loss} -> {after}");
}

/// A batch the layout cannot read is refused, not read out of bounds (it panicked in the
/// burn version, indexing a one-hot row past its end).
#[test]
fn a_batch_that_does_not_fit_is_refused() {
    let policy = Policy::new(
        Layout::new(4, vec![3, 2]),
        Shaping {
            temperature: 1.0,
            tanh_constant: 2.5,
        },
    );
    let p = policy.init(0.1, &mut Rng::new(0));
    let sample = |actions: Vec<u32>| Sample {
        actions,
        advantage: 1.0,
    };
    assert!(policy.loss_and_grad(&p, &[], 0.0).is_none());
    assert!(
        policy
            .loss_and_grad(&p, &[sample(vec![2, 2])], 0.0)
            .is_none()
    );
    assert!(policy.loss_and_grad(&p, &[sample(vec![1])], 0.0).is_none());
    assert!(
        policy
            .loss_and_grad(&p[1..], &[sample(vec![1, 1])], 0.0)
            .is_none()
    );
    assert!(
        policy
            .loss_and_grad(&p, &[sample(vec![2, 1])], 0.0)
            .is_some()
    );
}
