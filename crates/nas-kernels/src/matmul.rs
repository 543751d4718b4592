//! A checked, safe wrapper around `gemm`'s raw-pointer interface.
#![allow(unsafe_code)]

/// A read-only matrix view: element `(r, c)` is `data[r * row_stride + c * col_stride]`.
/// Strides let a transposed matrix be read without copying it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows x cols` matrix.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, as a view of the same data.
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// One past the largest index the view reads.
    fn extent(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            0
        } else {
            (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
        }
    }
}

fn stride(s: usize) -> isize {
    isize::try_from(s).unwrap_or(isize::MAX)
}

/// `dst = lhs * rhs`, or `dst += lhs * rhs` with `accumulate`; `dst` is row-major
/// `lhs.rows x rhs.cols`, single-threaded (callers parallelize over images).
///
/// # Panics
/// When the shapes do not chain or a view reaches past its slice.
pub(crate) fn matmul(dst: &mut [f32], lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool) {
    product(dst, lhs, rhs, accumulate, false);
}

/// [`matmul`] into a column-major `dst`. gemm works column-major: a row-major destination
/// makes it transpose the whole product, which turns a row-major operand into one it must
/// repack. Choosing the destination's order lets the large operand be read in place.
pub(crate) fn matmul_col_major(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    accumulate: bool,
) {
    product(dst, lhs, rhs, accumulate, true);
}

fn product(dst: &mut [f32], lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool, col_major: bool) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: inner dimensions differ");
    assert!(dst.len() >= m * n, "matmul: destination too short");
    assert!(
        lhs.extent() <= lhs.data.len(),
        "matmul: lhs view out of bounds"
    );
    assert!(
        rhs.extent() <= rhs.data.len(),
        "matmul: rhs view out of bounds"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    // SAFETY: the asserts above keep every index gemm forms inside its slice: dst is
    // m x n row-major within dst.len(), lhs and rhs stay within their extents. `dst` is
    // borrowed mutably, so it aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            if col_major { stride(m) } else { 1 },
            if col_major { 1 } else { stride(n) },
            accumulate,
            lhs.data.as_ptr(),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.data.as_ptr(),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: MatRef<'_>, b: MatRef<'_>) -> Vec<f32> {
        let mut out = vec![0.0; a.rows * b.cols];
        for r in 0..a.rows {
            for c in 0..b.cols {
                out[r * b.cols + c] = (0..a.cols)
                    .map(|i| {
                        a.data[r * a.row_stride + i * a.col_stride]
                            * b.data[i * b.row_stride + c * b.col_stride]
                    })
                    .sum();
            }
        }
        out
    }

    #[test]
    fn products_and_transposes_match_the_definition() {
        let a: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 2.0).collect();
        let b: Vec<f32> = (0..20).map(|i| (i % 7) as f32 - 3.0).collect();
        let lhs = MatRef::row_major(&a, 3, 4);
        let rhs = MatRef::row_major(&b, 4, 5);
        let mut dst = vec![1.0; 15];
        matmul(&mut dst, lhs, rhs, false);
        assert_eq!(dst, naive(lhs, rhs));
        // (4x3)^T x ... : a read as its transpose.
        let lhs_t = MatRef::row_major(&a, 4, 3).t();
        let mut dst = vec![0.0; 15];
        matmul(&mut dst, lhs_t, rhs, false);
        assert_eq!(dst, naive(lhs_t, rhs));
        // Accumulating adds to what is there.
        let mut acc = naive(lhs, rhs);
        matmul(&mut acc, lhs, rhs, true);
        let twice: Vec<f32> = naive(lhs, rhs).iter().map(|v| v * 2.0).collect();
        assert_eq!(acc, twice);
        // Column-major: the transpose of the row-major product.
        let mut col = vec![0.0; 15];
        matmul_col_major(&mut col, lhs, rhs, false);
        let row = naive(lhs, rhs);
        for r in 0..3 {
            for c in 0..5 {
                assert_eq!(col[c * 3 + r], row[r * 5 + c]);
            }
        }
    }
}
