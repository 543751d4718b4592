//! Eigenvalues of a small symmetric matrix by cyclic Jacobi rotations: exact to rounding,
//! deterministic, and no linear-algebra dependency for one 64x64 matrix per cell.

/// The eigenvalues of the symmetric `n x n` matrix `a` (row-major), in no set order.
pub fn symmetric_eigenvalues(mut a: Vec<f64>, n: usize) -> Vec<f64> {
    let off = |a: &[f64]| -> f64 {
        let mut s = 0.0;
        for i in 0..n {
            for j in 0..n {
                if i != j {
                    s += a[i * n + j] * a[i * n + j];
                }
            }
        }
        s
    };
    let scale: f64 = a.iter().map(|v| v * v).sum::<f64>().max(f64::MIN_POSITIVE);
    for _sweep in 0..100 {
        if off(&a) <= 1e-24 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let (app, aqq) = (a[p * n + p], a[q * n + q]);
                // The rotation angle that zeroes a[p][q] (Golub & Van Loan, 8.4).
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
            }
        }
    }
    (0..n).map(|i| a[i * n + i]).collect()
}

#[cfg(test)]
mod tests {
    use super::symmetric_eigenvalues;

    #[test]
    fn known_spectra() {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
        let mut e = symmetric_eigenvalues(vec![2.0, 1.0, 1.0, 2.0], 2);
        e.sort_by(f64::total_cmp);
        assert!(
            (e[0] - 1.0).abs() < 1e-12 && (e[1] - 3.0).abs() < 1e-12,
            "{e:?}"
        );
        // [[4, 1, 2], [1, 3, 0], [2, 0, 5]]: trace 12, determinant 4*15 - 1*5 + 2*(-6) = 43.
        let e = symmetric_eigenvalues(vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.0, 2.0, 0.0, 5.0], 3);
        let (sum, product): (f64, f64) = (e.iter().sum(), e.iter().product());
        assert!(
            (sum - 12.0).abs() < 1e-10 && (product - 43.0).abs() < 1e-9,
            "{e:?}"
        );
    }
}
