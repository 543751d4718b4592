//! Average pooling with a square odd window, stride 1 and "same" zero padding, where the
//! padding is not counted (each output divides by the pixels its window covers): NB201's
//! `avg_pool_3x3`. Forward and backward.
//!
//! burn-flex's pooling backward took 97 ms for 16 channels at 32x32, batch 64; three of
//! the six edges of a pooling-heavy cell pool. Here both passes are a separable box sum:
//! the window sum is a row pass and a column pass, and the backward pass is the same box
//! sum of the output gradient divided by each output's count (the window is symmetric,
//! so the box sum is its own adjoint).

use rayon::prelude::*;

/// `[batch, channels, height, width]` and the window's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvgPoolShape {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// Odd, at least 1.
    pub kernel: usize,
}

impl AvgPoolShape {
    pub fn len(&self) -> usize {
        self.batch * self.channels * self.height * self.width
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn plane(&self) -> usize {
        self.height * self.width
    }

    fn radius(&self) -> usize {
        self.kernel / 2
    }

    /// How many of `0..n` lie within `radius` of `i`.
    fn covered(i: usize, n: usize, radius: usize) -> usize {
        (i + radius).min(n - 1) + 1 - i.saturating_sub(radius)
    }

    fn check(&self, what: &str, len: usize) {
        assert!(
            self.kernel % 2 == 1,
            "avg_pool: the window must be odd: {self:?}"
        );
        assert_eq!(
            len,
            self.len(),
            "avg_pool: {what} has the wrong length for {self:?}"
        );
    }
}

/// `out[y][x] = sum of src within the window around (y, x)` for one plane; `row` is a
/// scratch row of the plane's width.
fn box_sum(src: &[f32], s: &AvgPoolShape, out: &mut [f32], row: &mut Vec<f32>) {
    let (h, w, r) = (s.height, s.width, s.radius());
    // Column pass: out[y] = sum of src rows y-r..=y+r.
    for y in 0..h {
        let line = &mut out[y * w..(y + 1) * w];
        line.fill(0.0);
        for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
            for (o, v) in line.iter_mut().zip(&src[yy * w..(yy + 1) * w]) {
                *o += v;
            }
        }
    }
    // Row pass, in place through the scratch row.
    row.resize(w, 0.0);
    for y in 0..h {
        let line = &mut out[y * w..(y + 1) * w];
        row.copy_from_slice(line);
        for (x, o) in line.iter_mut().enumerate() {
            *o = row[x.saturating_sub(r)..=(x + r).min(w - 1)].iter().sum();
        }
    }
}

/// `1 / count` of every output pixel of a plane.
fn inverse_counts(s: &AvgPoolShape) -> Vec<f32> {
    let (h, w, r) = (s.height, s.width, s.radius());
    (0..h * w)
        .map(|i| {
            let count = AvgPoolShape::covered(i / w, h, r) * AvgPoolShape::covered(i % w, w, r);
            1.0 / count as f32
        })
        .collect()
}

/// The pooled `[batch, channels, height, width]`.
///
/// # Panics
/// When the window is even or `x`'s length does not match `s`.
pub fn avg_pool_forward(x: &[f32], s: &AvgPoolShape) -> Vec<f32> {
    s.check("input", x.len());
    let inv = inverse_counts(s);
    let mut y = vec![0.0; s.len()];
    y.par_chunks_mut(s.plane().max(1))
        .zip(x.par_chunks(s.plane().max(1)))
        .for_each_init(Vec::new, |row, (y, x)| {
            box_sum(x, s, y, row);
            for (v, i) in y.iter_mut().zip(&inv) {
                *v *= i;
            }
        });
    y
}

/// The input gradient from the output gradient `dy`.
///
/// # Panics
/// As [`avg_pool_forward`].
pub fn avg_pool_backward(dy: &[f32], s: &AvgPoolShape) -> Vec<f32> {
    s.check("output gradient", dy.len());
    let inv = inverse_counts(s);
    let mut dx = vec![0.0; s.len()];
    dx.par_chunks_mut(s.plane().max(1))
        .zip(dy.par_chunks(s.plane().max(1)))
        .for_each_init(
            || (Vec::new(), Vec::new()),
            |(row, scaled), (dx, dy)| {
                scaled.clear();
                scaled.extend(dy.iter().zip(&inv).map(|(g, i)| g * i));
                box_sum(scaled, s, dx, row);
            },
        );
    dx
}
