#![allow(clippy::unwrap_used)]
//! The kernels against their definitions, written as plain loops: convolution here,
//! batch norm and average pooling in their modules.

#[path = "kernels/avg_pool.rs"]
mod avg_pool;
#[path = "kernels/batch_norm.rs"]
mod batch_norm;

use nas_kernels::{Conv2dShape, conv2d_forward, conv2d_input_grad, conv2d_weight_grad};
use proptest::prelude::*;

/// Calls `f(b, o, c, oy, ox, iy, ix, i, j)` for every product term of the convolution
/// that reads a real (not padding) input pixel.
fn for_each_term(s: &Conv2dShape, mut f: impl FnMut([usize; 9])) {
    let [ho, wo] = s.output_size();
    for b in 0..s.batch {
        for o in 0..s.channels_out {
            for c in 0..s.channels_in {
                for oy in 0..ho {
                    for ox in 0..wo {
                        for i in 0..s.kernel[0] {
                            for j in 0..s.kernel[1] {
                                let iy = (oy * s.stride[0] + i) as isize - s.padding[0] as isize;
                                let ix = (ox * s.stride[1] + j) as isize - s.padding[1] as isize;
                                if iy >= 0
                                    && ix >= 0
                                    && (iy as usize) < s.height
                                    && (ix as usize) < s.width
                                {
                                    f([b, o, c, oy, ox, iy as usize, ix as usize, i, j]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

struct Index<'a>(&'a Conv2dShape);

impl Index<'_> {
    fn x(&self, b: usize, c: usize, y: usize, x: usize) -> usize {
        let s = self.0;
        ((b * s.channels_in + c) * s.height + y) * s.width + x
    }
    fn w(&self, o: usize, c: usize, i: usize, j: usize) -> usize {
        let s = self.0;
        ((o * s.channels_in + c) * s.kernel[0] + i) * s.kernel[1] + j
    }
    fn y(&self, b: usize, o: usize, y: usize, x: usize) -> usize {
        let s = self.0;
        let [ho, wo] = s.output_size();
        ((b * s.channels_out + o) * ho + y) * wo + x
    }
}

fn reference(s: &Conv2dShape, x: &[f32], w: &[f32], dy: &[f32]) -> [Vec<f64>; 3] {
    let ix = Index(s);
    let mut y = vec![0.0f64; s.output_len()];
    let mut dx = vec![0.0f64; s.input_len()];
    let mut dw = vec![0.0f64; s.weight_len()];
    for_each_term(s, |[b, o, c, oy, ox, iy, ixx, i, j]| {
        let (xi, wi, yi) = (ix.x(b, c, iy, ixx), ix.w(o, c, i, j), ix.y(b, o, oy, ox));
        // A fused ReLU: the convolution reads max(x, 0), whose slope is 0 where x <= 0.
        let (input, slope) = match (s.relu_input, f64::from(x[xi])) {
            (true, v) if v <= 0.0 => (0.0, 0.0),
            (_, v) => (v, 1.0),
        };
        y[yi] += input * f64::from(w[wi]);
        dx[xi] += slope * f64::from(dy[yi]) * f64::from(w[wi]);
        dw[wi] += f64::from(dy[yi]) * input;
    });
    [y, dx, dw]
}

fn assert_close(what: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(*g) - w).abs() <= 1e-4 * (1.0 + w.abs()),
            "{what}[{k}]: got {g}, want {w}"
        );
    }
}

fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let v = (i as u32)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(seed.wrapping_mul(97));
            (v % 2001) as f32 / 1000.0 - 1.0
        })
        .collect()
}

fn shapes() -> impl Strategy<Value = Conv2dShape> {
    (
        (1usize..4, 1usize..4, 1usize..8, 1usize..8, 1usize..4),
        (
            1usize..4,
            1usize..4,
            1usize..3,
            1usize..3,
            0usize..3,
            0usize..3,
        ),
        any::<bool>(),
    )
        .prop_map(
            |(
                (batch, channels_in, height, width, channels_out),
                (kh, kw, sh, sw, ph, pw),
                relu_input,
            )| {
                Conv2dShape {
                    batch,
                    channels_in,
                    height,
                    width,
                    channels_out,
                    kernel: [kh, kw],
                    stride: [sh, sw],
                    padding: [ph, pw],
                    relu_input,
                }
            },
        )
        .prop_filter("kernel fits the padded input", Conv2dShape::is_supported)
}

fn check(s: &Conv2dShape) {
    let x = values(s.input_len(), 1);
    let w = values(s.weight_len(), 2);
    let dy = values(s.output_len(), 3);
    let [y, dx, dw] = reference(s, &x, &w, &dy);
    assert_close("output", &conv2d_forward(&x, &w, s), &y);
    assert_close("input gradient", &conv2d_input_grad(&dy, &w, &x, s), &dx);
    assert_close("weight gradient", &conv2d_weight_grad(&x, &dy, s), &dw);
}

proptest! {
    #[test]
    fn kernels_match_the_definition(s in shapes()) {
        check(&s);
    }
}

#[test]
fn the_network_shapes_match_the_definition() {
    // NB201's ops: 3x3 and 1x1 ReLU-Conv-BN, the stride-2 reduction and the stem.
    // Each with and without the ReLU that the cells fuse into their convolutions.
    for (c_in, c_out, k, stride, pad) in [(3, 4, 3, 1, 1), (4, 4, 1, 1, 0), (4, 6, 3, 2, 1)] {
        for relu_input in [false, true] {
            check(&Conv2dShape {
                batch: 9,
                channels_in: c_in,
                height: 8,
                width: 8,
                channels_out: c_out,
                kernel: [k, k],
                stride: [stride, stride],
                padding: [pad, pad],
                relu_input,
            });
        }
    }
}

#[test]
fn wide_and_deep_stride_1_convolutions_match_the_definition() {
    // Stride-1 convolutions multiply straight from the padded image: several 16-wide
    // panels per row, more than 256 im2col rows (the inner dimension is split into
    // passes), more than 256 output positions (the weight gradient's inner dimension),
    // output channels that are not whole blocks or panels, a wider kernel and no padding.
    // Output widths of whole 8-wide halves read each row in place (panels that straddle
    // two rows at width 24); others compute positions that wrap into the next row.
    for (n, (c_in, c_out, (h, w), k, pad)) in [
        (30, 6, (5, 17), 3, 1),
        (2, 20, (16, 16), 3, 1),
        (2, 4, (5, 16), 5, 2),
        (3, 5, (4, 18), 3, 0),
        (4, 4, (3, 32), 3, 1),
        (3, 4, (4, 24), 3, 1),
        (3, 4, (3, 8), 3, 1),
    ]
    .into_iter()
    .enumerate()
    {
        check(&Conv2dShape {
            batch: 2,
            channels_in: c_in,
            height: h,
            width: w,
            channels_out: c_out,
            kernel: [k, k],
            stride: [1, 1],
            padding: [pad, pad],
            relu_input: n % 2 == 1,
        });
    }
}

#[test]
fn results_are_the_same_bits_on_any_number_of_threads() {
    let s = Conv2dShape {
        batch: 11,
        channels_in: 5,
        height: 9,
        width: 9,
        channels_out: 6,
        kernel: [3, 3],
        stride: [1, 1],
        padding: [1, 1],
        relu_input: true,
    };
    let x = values(s.input_len(), 4);
    let w = values(s.weight_len(), 5);
    let dy = values(s.output_len(), 6);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            (
                conv2d_forward(&x, &w, &s),
                conv2d_input_grad(&dy, &w, &x, &s),
                conv2d_weight_grad(&x, &dy, &s),
            )
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
#[should_panic(expected = "wrong length")]
fn a_slice_of_the_wrong_length_is_refused() {
    let s = Conv2dShape {
        batch: 1,
        channels_in: 1,
        height: 3,
        width: 3,
        channels_out: 1,
        kernel: [3, 3],
        stride: [1, 1],
        padding: [0, 0],
        relu_input: false,
    };
    let _ = conv2d_forward(&[0.0; 8], &[0.0; 9], &s);
}
