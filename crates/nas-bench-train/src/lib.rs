//! What the benchmarks that train share: running the PyTorch reference scripts of
//! `bench/reference/` beside our own figures, in the same run on the same machine.

pub mod reference;

/// Mean and sample standard deviation of the values over seeds (0 for one value).
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}
