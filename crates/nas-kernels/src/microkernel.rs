//! A register-blocked `4 x 16` matrix product for x86-64 CPUs with AVX2 and FMA.
//!
//! gemm 0.19 reaches about 14 GMAC/s per core on this project's AMD EPYC machines, under
//! 40 % of their FMA peak, and convolution is a chain of such products. The shapes here
//! are narrow (16 to 64 output channels), so a plain kernel without packing the left
//! operand does better: 8 accumulators hold a 4 x 16 block of the result, and each step
//! of the inner dimension broadcasts 4 values of the left operand against 16 of the
//! right one (one cache line).
//!
//! Both operands are read through tables of line starts ([`Lines`]): a row of the left
//! operand and a 16-wide row of a right-operand panel can each lie anywhere in their
//! slice. That lets a convolution multiply straight from the (padded) image: row
//! `(channel, ky, kx)` of its im2col matrix is the image shifted by a fixed offset, so
//! neither im2col nor panel packing is written out.
#![allow(unsafe_code)]

/// Rows of the result per block.
pub(crate) const ROWS: usize = 4;
/// Columns of the result per block.
pub(crate) const COLS: usize = 16;
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

    /// Whether every line, read `len` values past `shift` further on, stays in `data`.
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
        gathered(&mut dst[j..], ld, a, b, 0, COLS, k, accumulate);
    }
}

/// `dst[..rows, ..cols] = A * B`, or `+=` with `accumulate`, where row `r` of `A` is
/// `a.data[a.starts[r]..][..k]` and row `p` of the 16 columns of `B` from column `j` is
/// `b.data[b.starts[p] + j * panel_step..][..16]`: `panel_step` 1 when `B`'s columns
/// are consecutive values (an image), `k`-row panels of 16 laid end to end take
/// `panel_step` = `k`. `rows` = `a.starts.len()` and `cols` are multiples of [`ROWS`]
/// and [`COLS`], `k` = `b.starts.len()`; `dst` is row-major with row stride `ld`.
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
    panel_step: usize,
    cols: usize,
    k: usize,
    accumulate: bool,
) {
    assert!(available(), "microkernel: this CPU lacks AVX2 or FMA");
    let rows = a.starts.len();
    assert!(
        rows % ROWS == 0 && cols % COLS == 0,
        "microkernel: partial block"
    );
    assert_eq!(b.starts.len(), k, "microkernel: rhs lines");
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        cols <= ld && (rows - 1) * ld + cols <= dst.len(),
        "microkernel: dst"
    );
    assert!(a.fits(0, k), "microkernel: lhs");
    assert!(b.fits((cols - COLS) * panel_step, COLS), "microkernel: rhs");
    for depth in (0..k).step_by(DEPTH) {
        let len = DEPTH.min(k - depth);
        let accumulate = accumulate || depth > 0;
        for j in (0..cols).step_by(COLS) {
            let b_at = j * panel_step;
            for i in (0..rows).step_by(ROWS) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the CPU has AVX2 and FMA (asserted above). The asserts bound
                // every index the kernel forms: row `i + r` of `a` reads `a.starts[i + r]
                // + depth + p` for `p < len`, within `fits(0, k)`; panel row `depth + p`
                // reads `b.starts[depth + p] + b_at + 0..16`, within the `fits` above as
                // `b_at <= (cols - 16) * panel_step`; `dst` is written at `(i + r) * ld
                // + j + c` for `c < 16`, `j + 16 <= cols <= ld`, `i + r < rows`.
                unsafe {
                    let a_row = |r: usize| a.data.as_ptr().add(a.starts[i + r] + depth);
                    avx2::block(
                        dst.as_mut_ptr().add(i * ld + j),
                        ld,
                        [a_row(0), a_row(1), a_row(2), a_row(3)],
                        b.data.as_ptr().add(b_at),
                        &b.starts[depth..depth + len],
                        accumulate,
                    );
                }
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

    /// One `4 x 16` block of the result: `dst[r][c] (+)= sum_p a[r][p] * b[starts[p] +
    /// c]` for `p < starts.len()`.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; `a[r].add(p)`, `b.add(starts[p] + c)` and
    /// `dst.add(r * ld + c)` are in bounds for `r < 4`, `c < 16`, `p < starts.len()`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn block(
        dst: *mut f32,
        ld: usize,
        a: [*const f32; 4],
        b: *const f32,
        starts: &[usize],
        accumulate: bool,
    ) {
        // SAFETY: as the caller promises.
        unsafe {
            let [a0, a1, a2, a3] = a;
            let mut c00 = _mm256_setzero_ps();
            let mut c01 = _mm256_setzero_ps();
            let mut c10 = _mm256_setzero_ps();
            let mut c11 = _mm256_setzero_ps();
            let mut c20 = _mm256_setzero_ps();
            let mut c21 = _mm256_setzero_ps();
            let mut c30 = _mm256_setzero_ps();
            let mut c31 = _mm256_setzero_ps();
            for (p, &start) in starts.iter().enumerate() {
                let bp = b.add(start);
                let b0 = _mm256_loadu_ps(bp);
                let b1 = _mm256_loadu_ps(bp.add(8));
                let x = _mm256_set1_ps(*a0.add(p));
                c00 = _mm256_fmadd_ps(x, b0, c00);
                c01 = _mm256_fmadd_ps(x, b1, c01);
                let x = _mm256_set1_ps(*a1.add(p));
                c10 = _mm256_fmadd_ps(x, b0, c10);
                c11 = _mm256_fmadd_ps(x, b1, c11);
                let x = _mm256_set1_ps(*a2.add(p));
                c20 = _mm256_fmadd_ps(x, b0, c20);
                c21 = _mm256_fmadd_ps(x, b1, c21);
                let x = _mm256_set1_ps(*a3.add(p));
                c30 = _mm256_fmadd_ps(x, b0, c30);
                c31 = _mm256_fmadd_ps(x, b1, c31);
            }
            for (r, (v0, v1)) in [(c00, c01), (c10, c11), (c20, c21), (c30, c31)]
                .into_iter()
                .enumerate()
            {
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
