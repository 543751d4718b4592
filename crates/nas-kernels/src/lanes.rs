//! Batch norm's per-channel sums in eight f32 lanes, with AVX where the CPU has it.
//!
//! The crate is compiled for the x86-64 baseline (SSE2), and there the compiler paired
//! each lane's two sums into one 2-wide vector: slower than two separate passes. Here
//! the AVX path holds each sum in its own 8-wide register. Both paths do the same
//! operations in the same order per lane (a multiply, then an add: never fused), so
//! they give the same bits.
#![allow(unsafe_code)]

/// Lanes per sum: one AVX register of f32.
pub(crate) const LANES: usize = 8;

/// Per lane `l`: the sums over `i = l, l + 8, ..` of `a[i] - ca` and of `(a[i] - ca) *
/// (b[i] - cb)`, for `a` and `b` of one length.
///
/// # Panics
/// When the lengths differ.
pub(crate) fn centered_sums(a: &[f32], b: &[f32], ca: f32, cb: f32) -> [[f32; LANES]; 2] {
    assert_eq!(a.len(), b.len(), "lanes: lengths differ");
    #[cfg(target_arch = "x86_64")]
    if crate::microkernel::available() {
        // SAFETY: the CPU has AVX2 and FMA (checked just above); the lengths are equal.
        return unsafe { avx::centered_sums(a, b, ca, cb) };
    }
    let mut sums = [[0.0; LANES]; 2];
    add_lanes(a, b, ca, cb, 0, &mut sums);
    sums
}

/// Adds `a[i]`, `b[i]` for `i` from `from` on into lane `i % 8` of `sums`.
fn add_lanes(a: &[f32], b: &[f32], ca: f32, cb: f32, from: usize, sums: &mut [[f32; 8]; 2]) {
    for (i, (x, y)) in a.iter().zip(b).enumerate().skip(from) {
        let x = x - ca;
        sums[0][i % LANES] += x;
        sums[1][i % LANES] += x * (y - cb);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use super::{LANES, add_lanes};
    use std::arch::x86_64::{
        _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps,
        _mm256_storeu_ps, _mm256_sub_ps,
    };

    /// [`super::centered_sums`] on AVX.
    ///
    /// # Safety
    /// The CPU has AVX; `a` and `b` have the same length.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn centered_sums(
        a: &[f32],
        b: &[f32],
        ca: f32,
        cb: f32,
    ) -> [[f32; LANES]; 2] {
        let whole = a.len() / LANES * LANES;
        let mut sums = [[0.0; LANES]; 2];
        // SAFETY: every load reads 8 values from `i < whole <= len`, `i + 8 <= whole`,
        // in both slices (equal lengths); the stores write the 8-value arrays.
        unsafe {
            let (ca_v, cb_v) = (_mm256_set1_ps(ca), _mm256_set1_ps(cb));
            let mut sum = _mm256_setzero_ps();
            let mut product = _mm256_setzero_ps();
            for i in (0..whole).step_by(LANES) {
                let x = _mm256_sub_ps(_mm256_loadu_ps(a.as_ptr().add(i)), ca_v);
                let y = _mm256_sub_ps(_mm256_loadu_ps(b.as_ptr().add(i)), cb_v);
                sum = _mm256_add_ps(sum, x);
                product = _mm256_add_ps(product, _mm256_mul_ps(x, y));
            }
            _mm256_storeu_ps(sums[0].as_mut_ptr(), sum);
            _mm256_storeu_ps(sums[1].as_mut_ptr(), product);
        }
        add_lanes(a, b, ca, cb, whole, &mut sums);
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_paths_give_the_same_bits() {
        let a: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..37).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut plain = [[0.0; LANES]; 2];
        add_lanes(&a, &b, 0.25, -0.5, 0, &mut plain);
        assert_eq!(centered_sums(&a, &b, 0.25, -0.5), plain);
        let total: f32 = plain[0].iter().sum();
        let want: f32 = a.iter().map(|x| x - 0.25).sum();
        assert!((total - want).abs() < 1e-4);
    }
}
