//! Published search costs and results, from `shared/docs/REFERENCE-NUMBERS.md`, so the
//! report can place a run beside NASNet, AmoebaNet, ENAS, DARTS and the NAS-Bench-201
//! baselines: the survey's trade-off between search cost and result.

/// A published search: what it cost and what it found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Published {
    pub method: &'static str,
    /// The space searched (`DARTS`/`NASNet` cells, or `NB201`).
    pub space: &'static str,
    /// Search cost in GPU-days, where the paper states it.
    pub gpu_days: Option<f64>,
    /// CIFAR-10 test accuracy (%) of the found architecture, and its standard deviation.
    pub cifar10_test: Option<(f64, Option<f64>)>,
    /// The paper the figure is from.
    pub source: &'static str,
    /// Read from a secondary copy of the table, not the paper.
    pub from_copy: bool,
}

const fn row(
    method: &'static str,
    space: &'static str,
    gpu_days: Option<f64>,
    cifar10_test: Option<(f64, Option<f64>)>,
    source: &'static str,
    from_copy: bool,
) -> Published {
    Published {
        method,
        space,
        gpu_days,
        cifar10_test,
        source,
        from_copy,
    }
}

/// NB201's budget, 12,000 simulated seconds of training, in days.
const NB201_DAYS: Option<f64> = Some(12_000.0 / 86_400.0);

/// The published rows. The DARTS-space results are 100 minus the published test error,
/// after the papers' full retraining (600 epochs for DARTS); the NB201 rows are the
/// 200-epoch test accuracy of the found cell, mean over 500 runs, within 12,000
/// simulated seconds.
pub const PUBLISHED: [Published; 15] = [
    row(
        "NASNet-A (RL)",
        "NASNet",
        Some(2000.0),
        None,
        "Zoph et al. 2018",
        false,
    ),
    row(
        "AmoebaNet-A (evolution)",
        "NASNet",
        Some(3150.0),
        Some((96.66, Some(0.06))),
        "Real et al. 2019",
        false,
    ),
    row(
        "PNAS",
        "NASNet",
        Some(225.0),
        None,
        "Liu et al. 2018",
        false,
    ),
    row(
        "ENAS",
        "DARTS",
        Some(0.45),
        Some((97.11, None)),
        "Pham et al. 2018",
        false,
    ),
    row(
        "DARTS (first order)",
        "DARTS",
        Some(1.5),
        None,
        "Liu et al. 2019",
        false,
    ),
    row(
        "DARTS (second order)",
        "DARTS",
        Some(4.0),
        Some((97.24, Some(0.09))),
        "Liu et al. 2019",
        false,
    ),
    row("GDAS", "DARTS", Some(0.17), None, "Dong & Yang 2019", false),
    row(
        "random search",
        "NB201",
        NB201_DAYS,
        Some((93.70, Some(0.36))),
        "Dong & Yang 2020",
        false,
    ),
    row(
        "REA",
        "NB201",
        NB201_DAYS,
        Some((93.92, Some(0.30))),
        "Dong & Yang 2020",
        false,
    ),
    row(
        "REINFORCE",
        "NB201",
        NB201_DAYS,
        Some((93.85, Some(0.37))),
        "Dong & Yang 2020",
        false,
    ),
    row(
        "BOHB",
        "NB201",
        NB201_DAYS,
        Some((93.61, Some(0.52))),
        "Dong & Yang 2020",
        false,
    ),
    row(
        "DARTS",
        "NB201",
        None,
        Some((54.30, Some(0.0))),
        "Dong & Yang 2020",
        false,
    ),
    row(
        "ENAS",
        "NB201",
        None,
        Some((53.89, Some(0.58))),
        "Dong & Yang 2020",
        true,
    ),
    row(
        "GDAS",
        "NB201",
        None,
        Some((93.61, Some(0.09))),
        "Dong & Yang 2020",
        true,
    ),
    row(
        "optimum of the table",
        "NB201",
        None,
        Some((94.37, None)),
        "Dong & Yang 2020",
        false,
    ),
];
