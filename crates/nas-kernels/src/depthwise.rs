//! Depthwise convolution (one square filter per channel, `groups = channels`), with
//! stride, zero padding, dilation and optionally the ReLU before it fused: the first half
//! of DARTS's separable and dilated convolutions. Forward and both gradients.
//!
//! burn's CPU backends run a grouped convolution as general convolution machinery, which
//! took 45 ms forward and backward for 16 channels of 28x28, batch 64, with a 3x3 filter:
//! nine times as long as a full 3x3 convolution with sixteen times the multiply-adds. A
//! mixed DARTS edge has six of them. Here each pass is a direct loop per plane: for each
//! filter tap, one multiply-add over the output rows it reaches, contiguous at stride 1.
//!
//! Work is split by plane (forward, input gradient) or by channel (weight gradient, whose
//! sum over the batch runs in image order), so results do not depend on the thread count.

use rayon::prelude::*;

/// The geometry of a depthwise convolution of `[batch, channels, height, width]` by
/// `[channels, 1, kernel, kernel]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthwiseShape {
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
    /// Whether the convolution reads `relu(x)`.
    pub relu_input: bool,
}

impl DepthwiseShape {
    /// `[height, width]` of the output.
    pub fn output_size(&self) -> [usize; 2] {
        let span = self.dilation * (self.kernel - 1) + 1;
        let out = |n: usize| (n + 2 * self.padding).saturating_sub(span) / self.stride + 1;
        [out(self.height), out(self.width)]
    }

    fn plane_in(&self) -> usize {
        self.height * self.width
    }

    fn plane_out(&self) -> usize {
        let [h, w] = self.output_size();
        h * w
    }

    fn check(&self, x: usize, weight: usize) {
        assert!(
            self.kernel >= 1 && self.stride >= 1 && self.dilation >= 1,
            "depthwise: kernel, stride and dilation must be at least 1: {self:?}"
        );
        assert_eq!(
            x,
            self.batch * self.channels * self.plane_in(),
            "depthwise: input length for {self:?}"
        );
        assert_eq!(
            weight,
            self.channels * self.kernel * self.kernel,
            "depthwise: weight length for {self:?}"
        );
    }

    /// The output indices `lo..hi` along an axis of `n` inputs (`out` outputs) whose tap
    /// `t` reads inside the input, and the input index the first of them reads.
    fn reach(&self, t: usize, n: usize, out: usize) -> (usize, usize, usize) {
        let offset = (t * self.dilation) as i64 - self.padding as i64;
        let s = self.stride as i64;
        // o * s + offset >= 0 and o * s + offset <= n - 1.
        let lo = if offset >= 0 {
            0
        } else {
            (-offset + s - 1) / s
        };
        let hi = ((n as i64 - 1 - offset).div_euclid(s) + 1).clamp(0, out as i64);
        if lo >= hi {
            // The tap reads only padding.
            return (0, 0, 0);
        }
        (lo as usize, hi as usize, (lo * s + offset) as usize)
    }
}

/// `relu(x)` where the shape asks for it, else `x` borrowed.
fn input_values<'a>(x: &'a [f32], s: &DepthwiseShape) -> std::borrow::Cow<'a, [f32]> {
    if s.relu_input {
        std::borrow::Cow::Owned(x.iter().map(|v| v.max(0.0)).collect())
    } else {
        std::borrow::Cow::Borrowed(x)
    }
}

/// Adds `w * src[tap]` for tap `(ty, tx)` into `out` (one output plane) from `src` (one
/// input plane): the forward pass of one tap.
fn forward_tap(
    src: &[f32],
    out: &mut [f32],
    weight: f32,
    ty: usize,
    tx: usize,
    s: &DepthwiseShape,
) {
    let [oh, ow] = s.output_size();
    let (y0, y1, iy0) = s.reach(ty, s.height, oh);
    let (x0, x1, ix0) = s.reach(tx, s.width, ow);
    for (k, oy) in (y0..y1).enumerate() {
        let iy = iy0 + k * s.stride;
        let row_in = &src[iy * s.width..(iy + 1) * s.width];
        let row_out = &mut out[oy * ow + x0..oy * ow + x1];
        if s.stride == 1 {
            for (o, v) in row_out.iter_mut().zip(&row_in[ix0..]) {
                *o += weight * v;
            }
        } else {
            for (j, o) in row_out.iter_mut().enumerate() {
                *o += weight * row_in[ix0 + j * s.stride];
            }
        }
    }
}

/// The output `[batch, channels, out_h, out_w]`.
///
/// # Panics
/// When the lengths do not match `s`.
pub fn depthwise_forward(x: &[f32], weight: &[f32], s: &DepthwiseShape) -> Vec<f32> {
    s.check(x.len(), weight.len());
    let x = input_values(x, s);
    let taps = s.kernel * s.kernel;
    let mut y = vec![0.0; s.batch * s.channels * s.plane_out()];
    y.par_chunks_mut(s.plane_out().max(1))
        .zip(x.par_chunks(s.plane_in().max(1)))
        .enumerate()
        .for_each(|(p, (out, src))| {
            let w = &weight[(p % s.channels) * taps..][..taps];
            for (t, &wt) in w.iter().enumerate() {
                forward_tap(src, out, wt, t / s.kernel, t % s.kernel, s);
            }
        });
    y
}

/// The input gradient from the output gradient `dy`; `x` is the forward input (for the
/// fused ReLU's mask).
///
/// # Panics
/// When the lengths do not match `s`.
pub fn depthwise_input_grad(dy: &[f32], weight: &[f32], x: &[f32], s: &DepthwiseShape) -> Vec<f32> {
    s.check(x.len(), weight.len());
    let taps = s.kernel * s.kernel;
    let [oh, ow] = s.output_size();
    let mut dx = vec![0.0; x.len()];
    dx.par_chunks_mut(s.plane_in().max(1))
        .zip(dy.par_chunks(s.plane_out().max(1)))
        .zip(x.par_chunks(s.plane_in().max(1)))
        .enumerate()
        .for_each(|(p, ((dx, dy), x))| {
            let w = &weight[(p % s.channels) * taps..][..taps];
            for (t, &wt) in w.iter().enumerate() {
                let (y0, y1, iy0) = s.reach(t / s.kernel, s.height, oh);
                let (x0, x1, ix0) = s.reach(t % s.kernel, s.width, ow);
                for (k, oy) in (y0..y1).enumerate() {
                    let iy = iy0 + k * s.stride;
                    let grad = &dy[oy * ow + x0..oy * ow + x1];
                    let row = &mut dx[iy * s.width..(iy + 1) * s.width];
                    if s.stride == 1 {
                        for (d, g) in row[ix0..].iter_mut().zip(grad) {
                            *d += wt * g;
                        }
                    } else {
                        for (j, g) in grad.iter().enumerate() {
                            row[ix0 + j * s.stride] += wt * g;
                        }
                    }
                }
            }
            if s.relu_input {
                for (d, v) in dx.iter_mut().zip(x) {
                    if *v <= 0.0 {
                        *d = 0.0;
                    }
                }
            }
        });
    dx
}

/// `Σ a[i] * b[i]` over `a`'s length, in eight lanes (so it vectorizes), added in a fixed
/// order.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a_main, a_rest) = a.split_at(a.len() - a.len() % 8);
    for (ca, cb) in a_main.chunks_exact(8).zip(b.chunks_exact(8)) {
        for l in 0..8 {
            lanes[l] += ca[l] * cb[l];
        }
    }
    let rest: f32 = a_rest
        .iter()
        .zip(&b[a_main.len()..])
        .map(|(x, y)| x * y)
        .sum();
    lanes.iter().sum::<f32>() + rest
}

/// The weight gradient `[channels, 1, kernel, kernel]`, summed over the batch in image
/// order.
///
/// # Panics
/// When the lengths do not match `s`.
pub fn depthwise_weight_grad(x: &[f32], dy: &[f32], s: &DepthwiseShape) -> Vec<f32> {
    s.check(x.len(), s.channels * s.kernel * s.kernel);
    let x = input_values(x, s);
    let taps = s.kernel * s.kernel;
    let [oh, ow] = s.output_size();
    let mut dw = vec![0.0; s.channels * taps];
    dw.par_chunks_mut(taps.max(1))
        .enumerate()
        .for_each(|(c, dw)| {
            for b in 0..s.batch {
                let p = b * s.channels + c;
                let src = &x[p * s.plane_in()..][..s.plane_in()];
                let grad = &dy[p * s.plane_out()..][..s.plane_out()];
                for (t, d) in dw.iter_mut().enumerate() {
                    let (y0, y1, iy0) = s.reach(t / s.kernel, s.height, oh);
                    let (x0, x1, ix0) = s.reach(t % s.kernel, s.width, ow);
                    let mut sum = 0.0f32;
                    for (k, oy) in (y0..y1).enumerate() {
                        let row = &src[(iy0 + k * s.stride) * s.width..];
                        let grad = &grad[oy * ow + x0..oy * ow + x1];
                        if s.stride == 1 {
                            sum += dot(grad, &row[ix0..]);
                        } else {
                            for (j, g) in grad.iter().enumerate() {
                                sum += g * row[ix0 + j * s.stride];
                            }
                        }
                    }
                    *d += sum;
                }
            }
        });
    dw
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, one output at a time.
    fn naive(x: &[f32], w: &[f32], s: &DepthwiseShape) -> Vec<f32> {
        let [oh, ow] = s.output_size();
        let mut y = Vec::new();
        for p in 0..s.batch * s.channels {
            let c = p % s.channels;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0.0;
                    for ty in 0..s.kernel {
                        for tx in 0..s.kernel {
                            let iy = (oy * s.stride + ty * s.dilation) as i64 - s.padding as i64;
                            let ix = (ox * s.stride + tx * s.dilation) as i64 - s.padding as i64;
                            if iy >= 0
                                && ix >= 0
                                && (iy as usize) < s.height
                                && (ix as usize) < s.width
                            {
                                let v =
                                    x[p * s.height * s.width + iy as usize * s.width + ix as usize];
                                let v = if s.relu_input { v.max(0.0) } else { v };
                                acc += w[c * s.kernel * s.kernel + ty * s.kernel + tx] * v;
                            }
                        }
                    }
                    y.push(acc);
                }
            }
        }
        y
    }

    fn shapes() -> Vec<DepthwiseShape> {
        let base = DepthwiseShape {
            batch: 2,
            channels: 3,
            height: 7,
            width: 6,
            kernel: 3,
            stride: 1,
            padding: 1,
            dilation: 1,
            relu_input: false,
        };
        vec![
            base,
            DepthwiseShape {
                stride: 2,
                relu_input: true,
                ..base
            },
            DepthwiseShape {
                kernel: 5,
                padding: 4,
                dilation: 2,
                ..base
            },
            DepthwiseShape {
                kernel: 5,
                padding: 2,
                stride: 2,
                height: 8,
                ..base
            },
            DepthwiseShape {
                kernel: 3,
                padding: 2,
                dilation: 2,
                stride: 2,
                ..base
            },
        ]
    }

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    #[test]
    fn forward_and_gradients_match_the_definition() {
        for s in shapes() {
            let x = values(s.batch * s.channels * s.height * s.width, 1);
            let w = values(s.channels * s.kernel * s.kernel, 2);
            let y = depthwise_forward(&x, &w, &s);
            let expected = naive(&x, &w, &s);
            for (a, b) in y.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-5, "{s:?}");
            }
            // Gradients of sum(dy * y): against the forward pass, which is linear in w and
            // (off the ReLU's kink) in x.
            let dy = values(y.len(), 3);
            let dw = depthwise_weight_grad(&x, &dy, &s);
            for (i, g) in dw.iter().enumerate() {
                let mut e = vec![0.0; w.len()];
                e[i] = 1.0;
                let fd: f32 = naive(&x, &e, &s).iter().zip(&dy).map(|(a, b)| a * b).sum();
                assert!((g - fd).abs() < 1e-4, "{s:?} dw[{i}]: {g} {fd}");
            }
            let dx = depthwise_input_grad(&dy, &w, &x, &s);
            for i in [0, 5, 17, x.len() - 1] {
                let mut e = x.clone();
                e.iter_mut().for_each(|v| *v = 0.0);
                e[i] = 1.0;
                let linear = DepthwiseShape {
                    relu_input: false,
                    ..s
                };
                let mut fd: f32 = naive(&e, &w, &linear)
                    .iter()
                    .zip(&dy)
                    .map(|(a, b)| a * b)
                    .sum();
                if s.relu_input && x[i] <= 0.0 {
                    fd = 0.0;
                }
                assert!((dx[i] - fd).abs() < 1e-4, "{s:?} dx[{i}]: {} {fd}", dx[i]);
            }
        }
    }
}
