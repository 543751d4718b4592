//! Average pooling against its definition: each output the mean of the input pixels in
//! its window; the backward pass as the adjoint (every output's gradient shared equally
//! among the pixels it averaged).

use nas_kernels::{AvgPoolShape, avg_pool_backward, avg_pool_forward};
use proptest::prelude::*;

/// Calls `f(output index, input index, count)` for every window term.
fn for_each_term(s: &AvgPoolShape, mut f: impl FnMut(usize, usize, usize)) {
    let r = s.kernel as isize / 2;
    let (h, w) = (s.height as isize, s.width as isize);
    for p in 0..s.batch * s.channels {
        for y in 0..h {
            for x in 0..w {
                let window: Vec<(isize, isize)> = (y - r..=y + r)
                    .flat_map(|yy| (x - r..=x + r).map(move |xx| (yy, xx)))
                    .filter(|&(yy, xx)| yy >= 0 && yy < h && xx >= 0 && xx < w)
                    .collect();
                let out = p * (h * w) as usize + (y * w + x) as usize;
                for &(yy, xx) in &window {
                    f(
                        out,
                        p * (h * w) as usize + (yy * w + xx) as usize,
                        window.len(),
                    );
                }
            }
        }
    }
}

fn values(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 1000.0) - 1.0)
        .collect()
}

fn check(s: &AvgPoolShape) {
    let x = values(s.len(), 1);
    let dy = values(s.len(), 2);
    let mut y = vec![0.0f64; s.len()];
    let mut dx = vec![0.0f64; s.len()];
    for_each_term(s, |o, i, n| {
        y[o] += f64::from(x[i]) / n as f64;
        dx[i] += f64::from(dy[o]) / n as f64;
    });
    for (what, got, want) in [
        ("output", avg_pool_forward(&x, s), y),
        ("input gradient", avg_pool_backward(&dy, s), dx),
    ] {
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((f64::from(*g) - w).abs() < 1e-5, "{what}[{k}]: {g} vs {w}");
        }
    }
}

proptest! {
    #[test]
    fn pooling_matches_the_definition(
        batch in 1usize..3, channels in 1usize..3, height in 1usize..9, width in 1usize..9,
        radius in 0usize..3,
    ) {
        check(&AvgPoolShape { batch, channels, height, width, kernel: 2 * radius + 1 });
    }
}

#[test]
#[should_panic(expected = "odd")]
fn an_even_window_is_refused() {
    let s = AvgPoolShape {
        batch: 1,
        channels: 1,
        height: 2,
        width: 2,
        kernel: 2,
    };
    let _ = avg_pool_forward(&[0.0; 4], &s);
}
