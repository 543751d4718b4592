//! Matrix products: a checked, safe wrapper around `gemm`'s raw-pointer interface, and
//! the dispatch to the AVX2 [`microkernel`] for whole blocks of row-major products.
#![allow(unsafe_code)]

use crate::microkernel;

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
    #[cfg(test)]
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
/// Row-major operands go to the [`microkernel`] where the CPU has it, whole blocks only;
/// the edges and everything else go to gemm.
///
/// # Panics
/// When the shapes do not chain or a view reaches past its slice.
pub(crate) fn matmul(dst: &mut [f32], lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: inner dimensions differ");
    let rows = m - m % microkernel::ROWS;
    let cols = n - n % microkernel::COLS;
    let blocked = lhs.col_stride == 1
        && rhs.col_stride == 1
        && rows > 0
        && cols > 0
        && microkernel::available();
    if !blocked {
        product(dst, n, lhs, rhs, accumulate);
        return;
    }
    microkernel::blocks(
        dst,
        n,
        rows_of(lhs),
        rows_of(rhs),
        rows,
        cols,
        k,
        accumulate,
    );
    // The right edge beside the blocks, then the bottom edge under both.
    if cols < n {
        let right = MatRef {
            data: &rhs.data[cols..],
            cols: n - cols,
            ..rhs
        };
        let top = MatRef { rows, ..lhs };
        product(&mut dst[cols..], n, top, right, accumulate);
    }
    if rows < m {
        let bottom = MatRef {
            data: &lhs.data[rows * lhs.row_stride..],
            rows: m - rows,
            ..lhs
        };
        product(&mut dst[rows * n..], n, bottom, rhs, accumulate);
    }
}

/// A view with unit column stride as the microkernel's row-major operand.
fn rows_of(v: MatRef<'_>) -> microkernel::Rows<'_> {
    microkernel::Rows {
        data: v.data,
        stride: v.row_stride,
    }
}

/// gemm: `dst` is `m x n`, row-major with row stride `ld`.
fn product(dst: &mut [f32], ld: usize, lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: inner dimensions differ");
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
    assert!(n <= ld, "matmul: stride shorter than a row");
    assert!(
        (m - 1) * ld + n <= dst.len(),
        "matmul: destination too short"
    );
    if k == 0 {
        if !accumulate {
            for row in dst.chunks_mut(ld).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    // SAFETY: the asserts above keep every index gemm forms inside its slice: dst's
    // lines are within dst.len(), lhs and rhs stay within their extents. `dst` is
    // borrowed mutably, so it aliases neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            stride(ld),
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
    }

    #[test]
    fn blocked_products_with_both_edges_match_the_definition() {
        // 9 x 37: two 4-row blocks and two 16-column blocks, plus a row and 5 columns of
        // edge. Small integers keep every sum exact, whatever the order.
        let (m, k, n) = (9, 13, 37);
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 - 3.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 - 2.0).collect();
        let (lhs, rhs) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
        let mut dst = vec![7.0; m * n];
        matmul(&mut dst, lhs, rhs, false);
        assert_eq!(dst, naive(lhs, rhs));
        matmul(&mut dst, lhs, rhs, true);
        let twice: Vec<f32> = naive(lhs, rhs).iter().map(|v| v * 2.0).collect();
        assert_eq!(dst, twice);
    }

    #[test]
    fn every_split_into_6_and_4_row_blocks_matches_the_definition() {
        // 4 to 28 rows run as 6-row blocks and up to two 4-row ones (plus a gemm edge
        // where the count is not a multiple of 4); 300 inner steps cross a pass boundary.
        for m in 4..=28 {
            let (k, n) = (300, 32);
            let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 - 3.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 - 2.0).collect();
            let (lhs, rhs) = (MatRef::row_major(&a, m, k), MatRef::row_major(&b, k, n));
            let mut dst = vec![7.0; m * n];
            matmul(&mut dst, lhs, rhs, false);
            assert_eq!(dst, naive(lhs, rhs), "{m} rows");
        }
    }
}
