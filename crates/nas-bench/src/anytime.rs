//! The NB201 protocol benchmark's anytime figure: each strategy's mean test accuracy of
//! the incumbent after each evaluation, with a ±1 standard deviation band over seeds.
//! Drawn by nas-report's band chart, so the benchmark's figures look like the report's
//! and no SVG is written by hand here.

use crate::report::Stats;
use nas_report::{Band, bands};

/// The evaluation whose lowest band edge sets the bottom of the y axis: the first few
/// evaluations of every strategy are random draws, far below where the strategies
/// differ, and would squash the rest of the figure.
const FLOOR_AT: usize = 10;

/// How far above the table's optimum the y axis ends, in accuracy points.
const HEADROOM: f64 = 0.2;

/// The figure of `curves` (a strategy's name, its per-evaluation statistics from the
/// first evaluation on) under `title`, the y axis ending just above `optimum`.
///
/// # Errors
/// What the chart reports, as text.
pub fn chart(title: &str, curves: &[(String, Vec<Stats>)], optimum: f64) -> Result<String, String> {
    let points: Vec<Vec<(f64, f64, f64)>> = curves
        .iter()
        .map(|(_, stats)| {
            stats
                .iter()
                .enumerate()
                .map(|(i, s)| ((i + 1) as f64, s.mean, s.std))
                .collect()
        })
        .collect();
    let series: Vec<Band<'_>> = curves
        .iter()
        .zip(&points)
        .map(|((name, _), p)| Band { name, points: p })
        .collect();
    let floor = curves
        .iter()
        .filter_map(|(_, stats)| stats.get(FLOOR_AT - 1))
        .map(|s| s.mean - s.std)
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    // Fewer than FLOOR_AT evaluations: the axis fits the bands.
    let y_range = floor.is_finite().then_some(floor..optimum + HEADROOM);
    bands(
        title,
        "evaluations",
        "200-epoch test accuracy (%)",
        &series,
        y_range,
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests fail loudly by design.

    use super::*;

    #[test]
    fn every_strategy_is_a_band_and_a_line_in_the_svg() {
        let curve = |base: f64| -> Vec<Stats> {
            (0..20)
                .map(|i| Stats::of([base + i as f64 * 0.1, base + i as f64 * 0.1 + 0.4]))
                .collect()
        };
        let curves = vec![
            ("random".to_string(), curve(92.0)),
            ("evolution".to_string(), curve(92.5)),
        ];
        let svg = chart("NAS-Bench-201 cifar10", &curves, 94.37).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<polygon").count(), 2, "one band each");
        for name in [
            "random",
            "evolution",
            "NAS-Bench-201 cifar10",
            "evaluations",
        ] {
            assert!(svg.contains(name), "{name}");
        }
        // Too short for the floor: the axis fits the bands instead.
        let short = vec![("random".to_string(), curve(92.0)[..3].to_vec())];
        assert!(chart("t", &short, 94.37).unwrap().contains("<polygon"));
    }
}
