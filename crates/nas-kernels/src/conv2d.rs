//! 2-D convolution over NCHW data with an `[out, in, kh, kw]` weight, one group, no
//! dilation, symmetric zero padding: the forward pass and both gradients.
//!
//! With `cols` the im2col matrix of one image (`in*kh*kw` rows, one column per output
//! pixel) and `W` the weight as an `out x in*kh*kw` matrix:
//! - forward: `y = W cols`,
//! - input gradient: `dcols = W^T dy`, scattered back onto the image (col2im),
//! - weight gradient: `dW = sum over images of dy cols^T`.
//!
//! A 1x1 convolution with stride 1 and no padding skips im2col: the image is `cols`.
//! Other stride-1 convolutions skip it too: each row of `cols` is the zero-padded image
//! shifted by a fixed offset, and the microkernel reads it there (see `Padded`).

use crate::matmul::{MatRef, matmul};
use crate::microkernel;
use crate::output::{Writer, par_chunks_filled};
use rayon::prelude::*;

/// Images whose weight-gradient products are summed by one task. The split depends on the
/// batch only, never on the thread count, so the sum is the same bits on any machine load.
const IMAGES_PER_TASK: usize = 4;

/// The geometry of one convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dShape {
    pub batch: usize,
    pub channels_in: usize,
    pub height: usize,
    pub width: usize,
    pub channels_out: usize,
    /// `[height, width]` of the kernel.
    pub kernel: [usize; 2],
    /// `[vertical, horizontal]`, each at least 1.
    pub stride: [usize; 2],
    /// Zero rows added above and below, zero columns left and right.
    pub padding: [usize; 2],
    /// Whether the convolution reads `relu(x)` instead of `x`: a ReLU before it, fused so
    /// that the activation is never written out (NB201's ReLU-conv-BN). The input
    /// gradient is then zero where `x <= 0`.
    pub relu_input: bool,
}

impl Conv2dShape {
    /// Whether the kernels handle this geometry: positive sizes and strides, and a kernel
    /// that fits the padded input.
    pub fn is_supported(&self) -> bool {
        let sizes = [
            self.batch,
            self.channels_in,
            self.height,
            self.width,
            self.channels_out,
            self.kernel[0],
            self.kernel[1],
            self.stride[0],
            self.stride[1],
        ];
        sizes.iter().all(|&s| s > 0)
            && self.height + 2 * self.padding[0] >= self.kernel[0]
            && self.width + 2 * self.padding[1] >= self.kernel[1]
    }

    /// `[height, width]` of the output.
    pub fn output_size(&self) -> [usize; 2] {
        let out = |size: usize, pad: usize, k: usize, s: usize| (size + 2 * pad - k) / s + 1;
        [
            out(self.height, self.padding[0], self.kernel[0], self.stride[0]),
            out(self.width, self.padding[1], self.kernel[1], self.stride[1]),
        ]
    }

    pub fn input_len(&self) -> usize {
        self.batch * self.image_len()
    }

    pub fn weight_len(&self) -> usize {
        self.channels_out * self.patch_len()
    }

    pub fn output_len(&self) -> usize {
        self.batch * self.channels_out * self.pixels_out()
    }

    fn image_len(&self) -> usize {
        self.channels_in * self.height * self.width
    }

    fn pixels_out(&self) -> usize {
        let [h, w] = self.output_size();
        h * w
    }

    /// Rows of the im2col matrix: one per input channel and kernel position.
    fn patch_len(&self) -> usize {
        self.channels_in * self.kernel[0] * self.kernel[1]
    }

    fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.padding == [0, 0]
    }

    fn check(&self, what: &str, len: usize, expected: usize) {
        assert!(self.is_supported(), "conv2d: unsupported geometry {self:?}");
        assert_eq!(
            len, expected,
            "conv2d: {what} has the wrong length for {self:?}"
        );
    }
}

/// The output positions `o` in `0..outputs` whose input `o * stride + offset - pad` lies in
/// `0..inputs`, as a range (they are contiguous).
fn valid_range(
    outputs: usize,
    stride: usize,
    offset: usize,
    pad: usize,
    inputs: usize,
) -> (usize, usize) {
    let lo = pad.saturating_sub(offset).div_ceil(stride);
    let hi = (inputs + pad)
        .saturating_sub(offset)
        .div_ceil(stride)
        .min(outputs);
    (lo.min(hi), hi)
}

/// ReLU as PyTorch and burn compute it: a NaN stays NaN.
fn relu(v: f32) -> f32 {
    if v <= 0.0 { 0.0 } else { v }
}

/// Copies input values into `dst`, through [`relu`] when the convolution fuses one.
fn copy_input(dst: &mut [f32], src: &[f32], s: &Conv2dShape) {
    if s.relu_input {
        for (d, v) in dst.iter_mut().zip(src) {
            *d = relu(*v);
        }
    } else {
        dst.copy_from_slice(src);
    }
}

/// Calls `f(row, kernel_y, kernel_x, channel)` for each im2col row in order.
fn for_each_row(s: &Conv2dShape, mut f: impl FnMut(usize, usize, usize, usize)) {
    let mut row = 0;
    for c in 0..s.channels_in {
        for i in 0..s.kernel[0] {
            for j in 0..s.kernel[1] {
                f(row, i, j, c);
                row += 1;
            }
        }
    }
}

/// Writes the im2col matrix of one image into `cols` (`patch_len x pixels_out`).
fn im2col(image: &[f32], s: &Conv2dShape, cols: &mut [f32]) {
    let [ho, wo] = s.output_size();
    let (h, w) = (s.height, s.width);
    let [sh, sw] = s.stride;
    let [ph, pw] = s.padding;
    for_each_row(s, |row, i, j, c| {
        let plane = &image[c * h * w..(c + 1) * h * w];
        let out = &mut cols[row * ho * wo..(row + 1) * ho * wo];
        let (y_lo, y_hi) = valid_range(ho, sh, i, ph, h);
        let (x_lo, x_hi) = valid_range(wo, sw, j, pw, w);
        out[..y_lo * wo].fill(0.0);
        out[y_hi * wo..].fill(0.0);
        for oy in y_lo..y_hi {
            let src = &plane[(oy * sh + i - ph) * w..][..w];
            let line = &mut out[oy * wo..(oy + 1) * wo];
            line[..x_lo].fill(0.0);
            line[x_hi..].fill(0.0);
            if sw == 1 {
                let start = x_lo + j - pw;
                copy_input(&mut line[x_lo..x_hi], &src[start..start + x_hi - x_lo], s);
            } else {
                for (ox, v) in line.iter_mut().enumerate().take(x_hi).skip(x_lo) {
                    let x = src[ox * sw + j - pw];
                    *v = if s.relu_input { relu(x) } else { x };
                }
            }
        }
    });
}

/// Adds the im2col-shaped `cols` back onto one image: the adjoint of [`im2col`].
fn col2im(cols: &[f32], s: &Conv2dShape, image: &mut [f32]) {
    let [ho, wo] = s.output_size();
    let (h, w) = (s.height, s.width);
    let [sh, sw] = s.stride;
    let [ph, pw] = s.padding;
    for_each_row(s, |row, i, j, c| {
        let plane = &mut image[c * h * w..(c + 1) * h * w];
        let src = &cols[row * ho * wo..(row + 1) * ho * wo];
        let (y_lo, y_hi) = valid_range(ho, sh, i, ph, h);
        let (x_lo, x_hi) = valid_range(wo, sw, j, pw, w);
        for oy in y_lo..y_hi {
            let dst = &mut plane[(oy * sh + i - ph) * w..][..w];
            let line = &src[oy * wo..(oy + 1) * wo];
            if sw == 1 {
                let start = x_lo + j - pw;
                for (d, v) in dst[start..start + x_hi - x_lo]
                    .iter_mut()
                    .zip(&line[x_lo..x_hi])
                {
                    *d += v;
                }
            } else {
                for (ox, v) in line.iter().enumerate().take(x_hi).skip(x_lo) {
                    dst[ox * sw + j - pw] += v;
                }
            }
        }
    });
}

/// Writes the `cols x rows` transpose of the row-major `rows x cols` matrix `src`.
fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    for (r, row) in src.chunks(cols).take(rows).enumerate() {
        for (c, v) in row.iter().enumerate() {
            dst[c * rows + r] = *v;
        }
    }
}

/// The im2col matrix of `image` as a slice: the image itself for a pointwise convolution
/// (through ReLU into `buffer` if one is fused), else written into `buffer`.
fn patches<'a>(image: &'a [f32], s: &Conv2dShape, buffer: &'a mut Vec<f32>) -> &'a [f32] {
    if s.is_pointwise() && !s.relu_input {
        image
    } else if s.is_pointwise() {
        buffer.resize(image.len(), 0.0);
        copy_input(buffer, image, s);
        buffer
    } else {
        buffer.resize(s.patch_len() * s.pixels_out(), 0.0);
        im2col(image, s, buffer);
        buffer
    }
}

/// The convolution of `x` (`[batch, in, h, w]`) with `weight` (`[out, in, kh, kw]`):
/// `[batch, out, h_out, w_out]`. Images run in parallel.
///
/// # Panics
/// When `s` is not [supported](Conv2dShape::is_supported) or a slice's length does not
/// match it.
pub fn conv2d_forward(x: &[f32], weight: &[f32], s: &Conv2dShape) -> Vec<f32> {
    forward_then(x, weight, s, |_, _| {})
}

/// [`conv2d_forward`], calling `finish(image, output)` on each image's output as soon as
/// it is written, while it is still in cache.
fn forward_then(
    x: &[f32],
    weight: &[f32],
    s: &Conv2dShape,
    finish: impl Fn(usize, &mut [f32]) + Sync + Send,
) -> Vec<f32> {
    s.check("input", x.len(), s.input_len());
    s.check("weight", weight.len(), s.weight_len());
    let (k, l) = (s.patch_len(), s.pixels_out());
    let image = |i: usize| &x[i * s.image_len()..][..s.image_len()];
    // A pointwise convolution's image already is its im2col matrix, unless a ReLU is
    // fused: then the copy through it is the (unpadded) padded image.
    if let Some(padded) = Padded::new(s).filter(|_| !s.is_pointwise() || s.relu_input) {
        let starts = padded.patch_starts(s);
        // Rows past `out` (up to a whole block) repeat row 0; their results are dropped.
        let rows = s.channels_out.next_multiple_of(microkernel::ROWS);
        let weight_starts: Vec<usize> = (0..rows)
            .map(|o| if o < s.channels_out { o * k } else { 0 })
            .collect();
        let (halves, ld) = padded.output_columns(s);
        par_chunks_filled(
            s.output_len(),
            s.channels_out * l,
            || (Vec::new(), Vec::new()),
            |(padded_image, product), i, y_b| {
                padded.pad(image(i), s, padded_image);
                let w = microkernel::Lines::new(weight, &weight_starts);
                let b = microkernel::Lines::new(padded_image, &starts);
                if rows == s.channels_out && ld == l {
                    // The product is the image's output as it lies.
                    y_b.fill_product(|slots| microkernel::gathered_uninit(slots, w, b, &halves));
                } else {
                    product.resize(rows * ld, 0.0);
                    microkernel::gathered(product, ld, w, b, &halves, None, false);
                    padded.unpad(product, ld, s, y_b);
                }
                finish(i, y_b.written_mut());
            },
        )
    } else {
        let w = MatRef::row_major(weight, s.channels_out, k);
        // Each image's product is formed in a scratch buffer and copied out, so the
        // output is not zeroed first on the calling thread.
        par_chunks_filled(
            s.output_len(),
            s.channels_out * l,
            || (Vec::new(), Vec::new()),
            |(buffer, product), i, y_b| {
                let cols = patches(image(i), s, buffer);
                product.resize(s.channels_out * l, 0.0);
                matmul(product, w, MatRef::row_major(cols, k, l), false);
                y_b.push_slice(product);
                finish(i, y_b.written_mut());
            },
        )
    }
}

/// A stride-1 convolution read from the zero-padded image, so that neither im2col nor
/// panel packing is written out.
///
/// The padded image has `hp x wp` planes. Output pixel `(oy, ox)` gets the flat position
/// `q = oy * wp + ox`, and im2col row `(c, ky, kx)` at `q` is the padded value at `q +
/// c * hp * wp + ky * wp + kx`: each im2col row is the padded image shifted by a fixed
/// start, which the microkernel reads in place. The microkernel takes each 8-wide half
/// of a 16-column panel from its own place, so when output rows are whole halves (NB201's
/// 32, 16 and 8) the forward product's columns are exactly the output pixels, and the
/// weight gradient's inner dimension steps over them the same way. Otherwise the forward
/// product runs over all flat positions: those with `ox >= w_out` wrap into the next
/// row, and their results are computed and dropped.
#[derive(Debug, Clone, Copy)]
struct Padded {
    /// Padded row length.
    wp: usize,
    /// Padded plane size, `hp * wp`.
    plane: usize,
    /// Flat positions computed where rows wrap: `h_out * wp`, rounded up to whole
    /// 16-wide panels.
    span: usize,
    /// Values in the padded buffer: the last start plus `span`.
    len: usize,
}

impl Padded {
    /// The layout for `s`, or `None` when the convolution is strided or the CPU lacks
    /// the microkernel.
    fn new(s: &Conv2dShape) -> Option<Self> {
        if !microkernel::available() || s.stride != [1, 1] {
            return None;
        }
        let [ph, pw] = s.padding;
        let [ho, _] = s.output_size();
        let wp = s.width + 2 * pw;
        let plane = (s.height + 2 * ph) * wp;
        let span = (ho * wp).next_multiple_of(microkernel::COLS);
        let last_start = (s.channels_in - 1) * plane + (s.kernel[0] - 1) * wp + s.kernel[1] - 1;
        Some(Self {
            wp,
            plane,
            span,
            len: last_start + span,
        })
    }

    /// Where each im2col row starts in the padded image, in im2col order.
    fn patch_starts(&self, s: &Conv2dShape) -> Vec<usize> {
        let mut starts = vec![0; s.patch_len()];
        for_each_row(s, |row, i, j, c| {
            starts[row] = c * self.plane + i * self.wp + j;
        });
        starts
    }

    /// Writes `image` into `buffer`, zero-padded. The zeros are written when the buffer
    /// grows and never overwritten, so `buffer` must be empty or last filled by this
    /// layout.
    fn pad(&self, image: &[f32], s: &Conv2dShape, buffer: &mut Vec<f32>) {
        buffer.resize(self.len, 0.0);
        let (h, w) = (s.height, s.width);
        let [ph, pw] = s.padding;
        for (c, plane) in image.chunks_exact(h * w).enumerate() {
            for (y, line) in plane.chunks_exact(w).enumerate() {
                let at = c * self.plane + (y + ph) * self.wp + pw;
                copy_input(&mut buffer[at..at + w], line, s);
            }
        }
    }

    /// The columns of the forward product, as [`microkernel::gathered`]'s `halves`
    /// (offsets in the padded image), and their count.
    ///
    /// When each output row is whole halves (and the plane whole panels), every 8
    /// consecutive output pixels lie in one padded row: the columns are exactly the
    /// output's pixels. Otherwise they are the `span` flat positions, wrapped ones
    /// included.
    fn output_columns(&self, s: &Conv2dShape) -> (Vec<usize>, usize) {
        const HALF: usize = microkernel::HALF;
        let [ho, wo] = s.output_size();
        if wo % HALF == 0 && (ho * wo) % microkernel::COLS == 0 {
            let halves = (0..ho * wo)
                .step_by(HALF)
                .map(|q| (q / wo) * self.wp + q % wo)
                .collect();
            (halves, ho * wo)
        } else {
            (microkernel::consecutive(self.span), self.span)
        }
    }

    /// Writes the output pixels of `product` (`out` rows of `ld` columns, or more, as
    /// [`Padded::output_columns`] laid them out) to `y` as `[out, h_out, w_out]`.
    fn unpad(&self, product: &[f32], ld: usize, s: &Conv2dShape, y: &mut Writer<'_>) {
        let [ho, wo] = s.output_size();
        if ld == ho * wo {
            y.push_slice(&product[..s.channels_out * ld]);
            return;
        }
        for o in 0..s.channels_out {
            for oy in 0..ho {
                y.push_slice(&product[o * ld + oy * self.wp..][..wo]);
            }
        }
    }

    /// Writes `dy` (`[out, h_out, w_out]`) transposed, one row per output pixel, as
    /// panels of 16 output channels laid end to end (`h_out * w_out x 16` each,
    /// channels past `out` zero), so the weight gradient's right operand needs no
    /// packing. As with [`Padded::pad`], `buffer` must be empty or last filled by this
    /// layout.
    fn transpose_output_grad(&self, dy: &[f32], s: &Conv2dShape, buffer: &mut Vec<f32>) {
        const N: usize = microkernel::COLS;
        let l = s.pixels_out();
        let panels = s.channels_out.div_ceil(N);
        buffer.resize(panels * l * N, 0.0);
        for (o, plane) in dy.chunks_exact(l).enumerate() {
            let panel = &mut buffer[(o / N) * l * N..][..l * N];
            for (q, v) in plane.iter().enumerate() {
                panel[q * N + o % N] = *v;
            }
        }
    }

    /// Where each output pixel `(oy, ox)`, in order, lies in the padded image's flat
    /// positions: `oy * wp + ox`.
    fn pixel_positions(&self, s: &Conv2dShape) -> Vec<usize> {
        let [ho, wo] = s.output_size();
        (0..ho)
            .flat_map(|oy| (0..wo).map(move |ox| oy * self.wp + ox))
            .collect()
    }
}

/// The gradient of the loss with respect to the input `x`, from the output gradient `dy`
/// (`[batch, out, h_out, w_out]`): `[batch, in, h, w]`. `x` is read only when a ReLU is
/// fused (`s.relu_input`), to zero the gradient where `x <= 0`.
///
/// # Panics
/// As [`conv2d_forward`].
pub fn conv2d_input_grad(dy: &[f32], weight: &[f32], x: &[f32], s: &Conv2dShape) -> Vec<f32> {
    s.check("output gradient", dy.len(), s.output_len());
    s.check("weight", weight.len(), s.weight_len());
    s.check("input", x.len(), s.input_len());
    let image = |i: usize| &x[i * s.image_len()..][..s.image_len()];
    if let Some((flipped, t)) = as_full_convolution(weight, s) {
        return forward_then(dy, &flipped, &t, |i, dx_b| {
            if s.relu_input {
                mask_by_relu(dx_b, image(i));
            }
        });
    }
    let (k, l) = (s.patch_len(), s.pixels_out());
    // W^T copied row-major (it is small), so the product runs on the microkernel.
    let mut w_t = vec![0.0; weight.len()];
    transpose(weight, s.channels_out, k, &mut w_t);
    let w_t = MatRef::row_major(&w_t, k, s.channels_out);
    // Each image's gradient is formed in a scratch buffer and copied out once, so the
    // output is not zeroed first on one thread.
    par_chunks_filled(
        s.input_len(),
        s.image_len(),
        || (Vec::new(), Vec::new()),
        |(dx_image, dcols), i, dx_b| {
            let dy_b = MatRef::row_major(
                &dy[i * s.channels_out * l..][..s.channels_out * l],
                s.channels_out,
                l,
            );
            dx_image.resize(s.image_len(), 0.0);
            if s.is_pointwise() {
                matmul(dx_image, w_t, dy_b, false);
            } else {
                dcols.resize(k * l, 0.0);
                matmul(dcols, w_t, dy_b, false);
                dx_image.fill(0.0);
                col2im(dcols, s, dx_image);
            }
            if s.relu_input {
                mask_by_relu(dx_image, image(i));
            }
            dx_b.push_slice(dx_image);
        },
    )
}

/// ReLU's backward pass on a gradient: zero where the ReLU's input `x` was `<= 0` (a NaN
/// input keeps its gradient, as in burn).
fn mask_by_relu(dx: &mut [f32], x: &[f32]) {
    // A select on every value, not a conditional store: the compiler vectorizes it, and
    // there is no branch to mispredict on half of the values.
    for (d, v) in dx.iter_mut().zip(x) {
        *d = if *v <= 0.0 { 0.0 } else { *d };
    }
}

/// A stride-1 convolution's input gradient is itself a convolution: of the output
/// gradient, padded by `kernel - 1 - padding`, with the kernel flipped in space and its
/// channel axes swapped. As a forward pass its product has the channels as the small
/// inner dimension once, not `W^T dy` with only `out` terms per dot product and a
/// scatter after. `None` where that does not hold (strides, pointwise, padding >= kernel).
fn as_full_convolution(weight: &[f32], s: &Conv2dShape) -> Option<(Vec<f32>, Conv2dShape)> {
    let [kh, kw] = s.kernel;
    let [ph, pw] = s.padding;
    if s.stride != [1, 1] || s.is_pointwise() || ph >= kh || pw >= kw {
        return None;
    }
    let [ho, wo] = s.output_size();
    let t = Conv2dShape {
        batch: s.batch,
        channels_in: s.channels_out,
        height: ho,
        width: wo,
        channels_out: s.channels_in,
        kernel: s.kernel,
        stride: [1, 1],
        padding: [kh - 1 - ph, kw - 1 - pw],
        relu_input: false,
    };
    let mut flipped = vec![0.0; weight.len()];
    for o in 0..s.channels_out {
        for c in 0..s.channels_in {
            for i in 0..kh {
                for j in 0..kw {
                    let from = ((o * s.channels_in + c) * kh + i) * kw + j;
                    let to = ((c * s.channels_out + o) * kh + (kh - 1 - i)) * kw + (kw - 1 - j);
                    flipped[to] = weight[from];
                }
            }
        }
    }
    Some((flipped, t))
}

/// The gradient of the loss with respect to the weight, from the input `x` and the
/// output gradient `dy`: `[out, in, kh, kw]`, summed over the batch.
///
/// # Panics
/// As [`conv2d_forward`].
pub fn conv2d_weight_grad(x: &[f32], dy: &[f32], s: &Conv2dShape) -> Vec<f32> {
    s.check("input", x.len(), s.input_len());
    s.check("output gradient", dy.len(), s.output_len());
    let k = s.patch_len();
    let dy_len = s.channels_out * s.pixels_out();
    let groups = x
        .par_chunks(s.image_len() * IMAGES_PER_TASK)
        .zip(dy.par_chunks(dy_len * IMAGES_PER_TASK));
    // Each task sums dW^T = cols dy^T over its images (`ld` columns, a row per im2col
    // row, possibly more); the tasks' sums are added in order and transposed back.
    let (parts, ld): (Vec<Vec<f32>>, usize) = if let Some(padded) = Padded::new(s) {
        // Rows past the im2col matrix's (up to a whole block) repeat its row 0 and are
        // dropped; columns past `out` (up to a whole panel) multiply zeros.
        let mut starts = padded.patch_starts(s);
        starts.resize(k.next_multiple_of(microkernel::ROWS), 0);
        let ld = s.channels_out.next_multiple_of(microkernel::COLS);
        // The inner dimension runs over the output pixels only: row `r` of the im2col
        // matrix at pixel `q` is the padded image at `starts[r] + positions[q]`.
        let positions = padded.pixel_positions(s);
        let l = positions.len();
        let dy_starts: Vec<usize> = (0..l).map(|q| q * microkernel::COLS).collect();
        // Panel `j` of the transposed output gradient starts at `j * l * 16`.
        let dy_halves: Vec<usize> = microkernel::consecutive(ld)
            .iter()
            .map(|h| (h / microkernel::COLS) * l * microkernel::COLS + h % microkernel::COLS)
            .collect();
        let parts = groups
            .map_init(
                || (Vec::new(), Vec::new()),
                |(image, dy_t), (xs, dys)| {
                    let mut dw_t = vec![0.0; starts.len() * ld];
                    for (n, (x_b, dy_b)) in
                        xs.chunks(s.image_len()).zip(dys.chunks(dy_len)).enumerate()
                    {
                        padded.pad(x_b, s, image);
                        padded.transpose_output_grad(dy_b, s, dy_t);
                        let cols = microkernel::Lines::new(image, &starts);
                        let dy_t = microkernel::Lines::new(dy_t, &dy_starts);
                        microkernel::gathered(
                            &mut dw_t,
                            ld,
                            cols,
                            dy_t,
                            &dy_halves,
                            Some(&positions),
                            n > 0,
                        );
                    }
                    dw_t
                },
            )
            .collect();
        (parts, ld)
    } else {
        let l = s.pixels_out();
        let parts = groups
            .map_init(Vec::new, |buffer, (xs, dys)| {
                // dy is transposed once (16 to 64 rows of a plane), so both operands
                // are row-major for the microkernel.
                let mut dw_t = vec![0.0; s.weight_len()];
                let mut dy_t = vec![0.0; dy_len];
                for (x_b, dy_b) in xs.chunks(s.image_len()).zip(dys.chunks(dy_len)) {
                    let cols = patches(x_b, s, buffer);
                    transpose(dy_b, s.channels_out, l, &mut dy_t);
                    let dy_t = MatRef::row_major(&dy_t, l, s.channels_out);
                    matmul(&mut dw_t, MatRef::row_major(cols, k, l), dy_t, true);
                }
                dw_t
            })
            .collect();
        (parts, s.channels_out)
    };
    // Summed contiguously in task order, then transposed once.
    let mut parts = parts.into_iter();
    let mut sum = parts.next().unwrap_or_default();
    for part in parts {
        for (t, v) in sum.iter_mut().zip(&part) {
            *t += v;
        }
    }
    let mut total = vec![0.0; s.weight_len()];
    for (o, row) in total.chunks_mut(k).enumerate() {
        for (r, t) in row.iter_mut().enumerate() {
            *t = sum[r * ld + o];
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_ranges_cover_exactly_the_inputs_inside() {
        for outputs in 1..6 {
            for stride in 1..4 {
                for offset in 0..3 {
                    for pad in 0..3 {
                        for inputs in 1..7 {
                            let (lo, hi) = valid_range(outputs, stride, offset, pad, inputs);
                            for o in 0..outputs {
                                let pos = (o * stride + offset) as isize - pad as isize;
                                let inside = pos >= 0 && pos < inputs as isize;
                                assert_eq!(inside, (lo..hi).contains(&o));
                            }
                        }
                    }
                }
            }
        }
    }
}
