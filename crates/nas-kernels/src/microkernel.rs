//! A register-blocked `4 x 16` matrix product for x86-64 CPUs with AVX2 and FMA.
//!
//! gemm 0.19 reaches about 14 GMAC/s per core on this project's AMD EPYC machines, under
//! 40 % of their FMA peak, and convolution is a chain of such products. The shapes here
//! are narrow (16 to 64 output channels) and both operands are row-major, so a plain
//! kernel without packing does better: 8 accumulators hold a 4 x 16 block of the
//! result, and each step of the inner dimension broadcasts 4 values of the left operand
//! against 16 of the right one (one cache line), which stays in L1 while the 4-row blocks
//! of the left operand go by.
#![allow(unsafe_code)]

/// Rows of the result per block.
pub(crate) const ROWS: usize = 4;
/// Columns of the result per block.
pub(crate) const COLS: usize = 16;

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

/// `dst[..rows, ..cols] = a[..rows, ..k] * b[..k, ..cols]`, or `+=` with `accumulate`,
/// where `rows` and `cols` are multiples of [`ROWS`] and [`COLS`]; `dst` is row-major
/// with row stride `ld`.
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
    blocks_with(dst, ld, a, rows, cols, k, accumulate, |j, panel| {
        for (p, row) in panel.chunks_exact_mut(COLS).enumerate() {
            row.copy_from_slice(&b.data[p * b.stride + j..][..COLS]);
        }
    });
}

/// [`blocks`] where `pack(j, panel)` writes the `k x 16` panel of the right operand that
/// starts at column `j`, row after row, into `panel` (`k * 16` long; it must write every
/// value). A convolution packs straight from the image, so its im2col matrix is never
/// written out.
///
/// # Panics
/// As [`blocks`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn blocks_with(
    dst: &mut [f32],
    ld: usize,
    a: Rows<'_>,
    rows: usize,
    cols: usize,
    k: usize,
    accumulate: bool,
    mut pack: impl FnMut(usize, &mut [f32]),
) {
    assert!(available(), "microkernel: this CPU lacks AVX2 or FMA");
    assert!(
        rows % ROWS == 0 && cols % COLS == 0,
        "microkernel: partial block"
    );
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        cols <= ld && (rows - 1) * ld + cols <= dst.len(),
        "microkernel: dst"
    );
    assert!(
        k == 0 || (rows - 1) * a.stride + k <= a.data.len(),
        "microkernel: lhs"
    );
    let mut panel = vec![0.0; k * COLS];
    for j in (0..cols).step_by(COLS) {
        pack(j, &mut panel);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX2 and FMA (asserted above), and the asserts bound every
        // index the kernel forms: rows `< rows` of `a` read `k` values from
        // `r * a.stride`; the panel holds `k` rows of 16; `dst` is written at
        // `r * ld + j + c` for `r < rows`, `c < 16`, `j + 16 <= cols <= ld`.
        unsafe {
            avx2::row_blocks(&mut dst[j..], ld, a, rows, &panel, k, accumulate);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{ROWS, Rows};
    use std::arch::x86_64::{
        _mm256_add_ps, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_setzero_ps,
        _mm256_storeu_ps,
    };

    /// Every 4-row block of `a` against one panel, which stays in L1 meanwhile.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn row_blocks(
        dst: &mut [f32],
        ld: usize,
        a: Rows<'_>,
        rows: usize,
        panel: &[f32],
        k: usize,
        accumulate: bool,
    ) {
        for i in (0..rows).step_by(ROWS) {
            // SAFETY: within the bounds the caller checked.
            unsafe {
                block(
                    dst.as_mut_ptr().add(i * ld),
                    ld,
                    a.data.as_ptr().add(i * a.stride),
                    a.stride,
                    panel.as_ptr(),
                    super::COLS,
                    k,
                    accumulate,
                );
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    #[inline]
    unsafe fn block(
        dst: *mut f32,
        ld: usize,
        a: *const f32,
        lda: usize,
        b: *const f32,
        ldb: usize,
        k: usize,
        accumulate: bool,
    ) {
        // SAFETY: the caller keeps a[r * lda + p], b[p * ldb + 0..16] and
        // dst[r * ld + 0..16] in bounds for r < 4, p < k.
        unsafe {
            let (a0, a1, a2, a3) = (a, a.add(lda), a.add(2 * lda), a.add(3 * lda));
            let mut c00 = _mm256_setzero_ps();
            let mut c01 = _mm256_setzero_ps();
            let mut c10 = _mm256_setzero_ps();
            let mut c11 = _mm256_setzero_ps();
            let mut c20 = _mm256_setzero_ps();
            let mut c21 = _mm256_setzero_ps();
            let mut c30 = _mm256_setzero_ps();
            let mut c31 = _mm256_setzero_ps();
            let mut bp = b;
            for p in 0..k {
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
                bp = bp.add(ldb);
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
