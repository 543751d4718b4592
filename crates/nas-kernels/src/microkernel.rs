//! A register-blocked `6 x 16` (and `4 x 16`) matrix product for x86-64 CPUs with AVX2
//! and FMA.
//!
//! gemm 0.19 reaches about 14 GMAC/s per core on this project's AMD EPYC machines, under
//! 40 % of their FMA peak, and convolution is a chain of such products. The shapes here
//! are narrow (16 to 64 output channels), so a plain kernel without packing the left
//! operand does better: 12 accumulators hold a 6 x 16 block of the result, and each step
//! of the inner dimension broadcasts 6 values of the left operand against 16 of the
//! right one (one cache line). Two FMA units with a latency of 4 cycles need 8
//! independent sums in flight; with 12 a late load does not stall them (5 to 12 %
//! faster convolutions than 4 x 16 blocks alone). Rows that do not fill 6-row blocks
//! (16 = 6 + 6 + 4) take 4-row blocks.
//!
//! Both operands are read through tables of line starts ([`Lines`]): a row of the left
//! operand and a 16-wide row of a right-operand panel can each lie anywhere in their
//! slice. That lets a convolution multiply straight from the (padded) image: row
//! `(channel, ky, kx)` of its im2col matrix is the image shifted by a fixed offset, so
//! neither im2col nor panel packing is written out.
#![allow(unsafe_code)]

use std::mem::MaybeUninit;

/// Rows of the result per block: products have a multiple of 4 rows, run as 6-row
/// blocks and at most two 4-row ones.
pub(crate) const ROWS: usize = 4;
/// Columns of the result per block.
pub(crate) const COLS: usize = 16;
/// Columns per AVX2 vector: half a block.
pub(crate) const HALF: usize = 8;
/// Steps of the inner dimension per pass over a panel: 256 rows of 16 values (16 KiB)
/// stay in L1 while every row block goes by.
const DEPTH: usize = 256;

/// Whether this CPU runs the kernel.
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A row-major operand: `data[r * stride + c]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rows<'a> {
    pub data: &'a [f32],
    pub stride: usize,
}

/// An operand whose line `i` starts at `data[starts[i]]` and runs on contiguously.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lines<'a> {
    pub data: &'a [f32],
    pub starts: &'a [usize],
}

impl<'a> Lines<'a> {
    pub fn new(data: &'a [f32], starts: &'a [usize]) -> Self {
        Self { data, starts }
    }

    /// Whether every line, read `len` values from `shift` further on, stays in `data`.
    fn fits(&self, shift: usize, len: usize) -> bool {
        let last = self.starts.iter().max().copied().unwrap_or(0);
        len == 0 || self.starts.is_empty() || last + shift + len <= self.data.len()
    }
}

/// `dst[..rows, ..cols] = a[..rows, ..k] * b[..k, ..cols]`, or `+=` with `accumulate`,
/// for row-major operands; `rows` and `cols` are multiples of [`ROWS`] and [`COLS`] and
/// `dst` is row-major with row stride `ld`.
///
/// Each 16-column panel of `b` is copied to contiguous rows first: rows a power of two
/// apart (an im2col matrix of a 32x32 image: 4 KiB) all fall in one L1 set and evict
/// each other.
///
/// # Panics
/// When the kernel is not [`available`], the sizes are not whole blocks, or a view
/// reaches past its slice.
#[allow(clippy::too_many_arguments)]
pub(crate) fn blocks(
    dst: &mut [f32],
    ld: usize,
    a: Rows<'_>,
    b: Rows<'_>,
    rows: usize,
    cols: usize,
    k: usize,
    accumulate: bool,
) {
    assert!(
        k == 0 || cols == 0 || (k - 1) * b.stride + cols <= b.data.len(),
        "microkernel: rhs"
    );
    let a_starts: Vec<usize> = (0..rows).map(|r| r * a.stride).collect();
    let a = Lines::new(a.data, &a_starts);
    let panel_starts: Vec<usize> = (0..k).map(|p| p * COLS).collect();
    let mut panel = vec![0.0; k * COLS];
    for j in (0..cols).step_by(COLS) {
        for (p, row) in panel.chunks_exact_mut(COLS).enumerate() {
            row.copy_from_slice(&b.data[p * b.stride + j..][..COLS]);
        }
        let b = Lines::new(&panel, &panel_starts);
        gathered(&mut dst[j..], ld, a, b, &[0, HALF], None, accumulate);
    }
}

/// `dst[..rows, ..cols] = A * B`, or `+=` with `accumulate`, where `A[r][p]` is
/// `a.data[a.starts[r] + p]`, or `a.data[a.starts[r] + steps[p]]` with `steps`, and, in
/// row `p` of `B`, the 8 columns from `8 * h` are `b.data[b.starts[p] + halves[h]..]
/// [..8]`. `cols` = `8 * halves.len()` is a multiple of [`COLS`], `rows` =
/// `a.starts.len()` one of [`ROWS`], `k` = `b.starts.len()`; `dst` is row-major with
/// row stride `ld`.
///
/// `halves` places each 8-wide half of a 16-column panel on its own: `[0, 8, 16, ..]`
/// for consecutive columns (a row-major `B`), but also the halves of two different image
/// rows, so that a convolution's output positions need not run on past a row's end.
/// `steps` likewise lets the inner dimension skip values of `A`'s rows.
///
/// # Panics
/// When the kernel is not [`available`], the sizes are not whole blocks, or a line
/// reaches past its slice.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gathered(
    dst: &mut [f32],
    ld: usize,
    a: Lines<'_>,
    b: Lines<'_>,
    halves: &[usize],
    steps: Option<&[usize]>,
    accumulate: bool,
) {
    // SAFETY: `dst` is valid for reads and writes of its length, all initialized.
    unsafe {
        product(
            dst.as_mut_ptr(),
            dst.len(),
            ld,
            a,
            b,
            halves,
            steps,
            accumulate,
        );
    }
}

/// Proof that [`gathered_uninit`] wrote every slot of the slice it was given.
pub(crate) struct Filled {
    start: *const MaybeUninit<f32>,
    len: usize,
}

impl Filled {
    /// How many slots of `slots` were written, from its start: all that the proof
    /// covers, or none when it was made for another slice.
    pub fn written_in(&self, slots: &[MaybeUninit<f32>]) -> usize {
        if std::ptr::eq(self.start, slots.as_ptr()) && self.len <= slots.len() {
            self.len
        } else {
            0
        }
    }
}

/// [`gathered`] with `ld` = the product's width, into uninitialized slots: a stride-1
/// convolution's product is an image's output as it lies, so it is written there
/// instead of into scratch that is then copied. Every slot is written.
///
/// # Panics
/// As [`gathered`], or when `dst` does not hold exactly the product.
pub(crate) fn gathered_uninit(
    dst: &mut [MaybeUninit<f32>],
    a: Lines<'_>,
    b: Lines<'_>,
    halves: &[usize],
) -> Filled {
    let cols = halves.len() * HALF;
    assert_eq!(dst.len(), a.starts.len() * cols, "microkernel: dst");
    if b.starts.is_empty() {
        dst.fill(MaybeUninit::new(0.0));
    } else {
        // SAFETY: `MaybeUninit<f32>` is laid out as `f32`, and `dst` is valid for writes
        // of its length. With `ld` = `cols` the first pass over the inner dimension
        // (`accumulate` false) writes every slot of the `rows x cols` product before a
        // later pass reads any.
        unsafe {
            product(
                dst.as_mut_ptr().cast::<f32>(),
                dst.len(),
                cols,
                a,
                b,
                halves,
                None,
                false,
            );
        }
    }
    Filled {
        start: dst.as_ptr(),
        len: dst.len(),
    }
}

/// The body of [`gathered`] on a raw destination.
///
/// # Safety
/// `dst` is valid for writes of `dst_len` values. It is read only where `accumulate`
/// is set (each slot of the product is then initialized) or where an earlier pass of
/// this call wrote.
#[allow(clippy::too_many_arguments)]
unsafe fn product(
    dst: *mut f32,
    dst_len: usize,
    ld: usize,
    a: Lines<'_>,
    b: Lines<'_>,
    halves: &[usize],
    steps: Option<&[usize]>,
    accumulate: bool,
) {
    assert!(available(), "microkernel: this CPU lacks AVX2 or FMA");
    let k = b.starts.len();
    let rows = a.starts.len();
    let cols = halves.len() * HALF;
    assert!(
        rows.is_multiple_of(ROWS) && cols.is_multiple_of(COLS),
        "microkernel: partial block"
    );
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        cols <= ld && (rows - 1) * ld + cols <= dst_len,
        "microkernel: dst"
    );
    match steps {
        Some(steps) => {
            assert_eq!(steps.len(), k, "microkernel: inner steps");
            let last = steps.iter().max().copied().unwrap_or(0);
            assert!(k == 0 || a.fits(last, 1), "microkernel: lhs");
        }
        None => assert!(a.fits(0, k), "microkernel: lhs"),
    }
    let last_half = halves.iter().max().copied().unwrap_or(0);
    assert!(b.fits(last_half, HALF), "microkernel: rhs");
    for depth in (0..k).step_by(DEPTH) {
        let len = DEPTH.min(k - depth);
        let accumulate = accumulate || depth > 0;
        let b_starts = &b.starts[depth..depth + len];
        // With `steps`, row `r` of `a` is read at its start plus a step; without, from
        // `depth` on.
        let (a_steps, shift) = match steps {
            Some(steps) => (&steps[depth..depth + len], 0),
            None => (&[][..], depth),
        };
        for (j, half) in halves.chunks_exact(2).enumerate() {
            let j = j * COLS;
            let mut i = 0;
            while i < rows {
                // 6-row blocks (12 accumulators: slack for the FMA latency) while the
                // rest splits into 6s and 4s; 4-row blocks for the rest.
                let left = rows - i;
                let six = left == 6 || left >= 10;
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the CPU has AVX2 and FMA (asserted above). The asserts bound
                // every index the kernel forms: row `i + r` of `a` reads `a.starts[i + r]
                // + depth + p`, or `a.starts[i + r] + steps[depth + p]`, for `p < len`,
                // within the `fits` above; panel row `depth + p` reads `b.starts[depth +
                // p] + halves[h] + 0..8`, within the `fits` above as `halves[h] <=
                // last_half`; `dst` is written at `(i + r) * ld + j + c` for `c < 16`,
                // `j + 16 <= cols <= ld`, `i + r < rows` (`rows` is a multiple of 4 and a
                // 6-row block is taken only when `left` is 6 or at least 10, so `left`
                // stays even and at least 4), within `dst_len` (asserted), and read there
                // only as the caller allows.
                unsafe {
                    let dst = dst.add(i * ld + j);
                    let b_rows = [b.data.as_ptr().add(half[0]), b.data.as_ptr().add(half[1])];
                    let a_row = |r: usize| a.data.as_ptr().add(a.starts[i + r] + shift);
                    let args = (dst, ld, a_steps, b_rows, b_starts, accumulate);
                    match (six, steps.is_some()) {
                        (true, true) => avx2::block::<true, 6>(std::array::from_fn(a_row), args),
                        (true, false) => avx2::block::<false, 6>(std::array::from_fn(a_row), args),
                        (false, true) => avx2::block::<true, 4>(std::array::from_fn(a_row), args),
                        (false, false) => avx2::block::<false, 4>(std::array::from_fn(a_row), args),
                    }
                }
                i += if six { 6 } else { ROWS };
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_setzero_ps,
        _mm256_storeu_ps,
    };

    /// What [`block`] takes besides its rows of `a`: `dst`, `ld`, `steps`, `b`, `starts`
    /// and `accumulate`.
    pub(super) type Args<'a> = (
        *mut f32,
        usize,
        &'a [usize],
        [*const f32; 2],
        &'a [usize],
        bool,
    );

    /// One `R x 16` block of the result: `dst[r][8 * h + c] (+)= sum_p a[r][q] *
    /// b[h][starts[p] + c]` for `r < R`, `p < starts.len()`, `h < 2`, `c < 8`, where `q`
    /// is `steps[p]` when `STEPS`, else `p`.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; `steps` has `starts.len()` values when `STEPS`;
    /// `a[r].add(q)`, `b[h].add(starts[p] + c)` and `dst.add(r * ld + 8 * h + c)` are in
    /// bounds for `r < R`, `h < 2`, `c < 8`, `p < starts.len()`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn block<const STEPS: bool, const R: usize>(
        a: [*const f32; R],
        (dst, ld, steps, b, starts, accumulate): Args<'_>,
    ) {
        // SAFETY: as the caller promises.
        unsafe {
            let [b_lo, b_hi] = b;
            // `R` is a constant, so the loops over rows unroll and the accumulators
            // live in registers: 2 per row, 12 of the 16 at 6 rows.
            let mut c = [[_mm256_setzero_ps(); 2]; R];
            for (p, &start) in starts.iter().enumerate() {
                let q = if STEPS { *steps.get_unchecked(p) } else { p };
                let b0 = _mm256_loadu_ps(b_lo.add(start));
                let b1 = _mm256_loadu_ps(b_hi.add(start));
                for r in 0..R {
                    let x = _mm256_set1_ps(*a[r].add(q));
                    c[r][0] = _mm256_fmadd_ps(x, b0, c[r][0]);
                    c[r][1] = _mm256_fmadd_ps(x, b1, c[r][1]);
                }
            }
            for (r, [v0, v1]) in c.into_iter().enumerate() {
                let out = dst.add(r * ld);
                let (v0, v1) = if accumulate {
                    (
                        _mm256_add_ps(_mm256_loadu_ps(out), v0),
                        _mm256_add_ps(_mm256_loadu_ps(out.add(8)), v1),
                    )
                } else {
                    (v0, v1)
                };
                _mm256_storeu_ps(out, v0);
                _mm256_storeu_ps(out.add(8), v1);
            }
        }
    }
}

/// The `halves` of [`gathered`] for `cols` consecutive columns.
pub(crate) fn consecutive(cols: usize) -> Vec<usize> {
    (0..cols / HALF).map(|h| h * HALF).collect()
}
