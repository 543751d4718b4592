//! Published NAS-Bench-201 results (Dong & Yang, ICLR 2020), searched with the 12-epoch
//! validation accuracy and reported as the 200-epoch test accuracy, from
//! `shared/docs/REFERENCE-NUMBERS.md`. `(copy)` marks figures read from a secondary copy.

/// A published figure: mean, and standard deviation when given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    pub mean: f64,
    pub std: Option<f64>,
    pub from_copy: bool,
}

const fn fig(mean: f64, std: Option<f64>, from_copy: bool) -> Option<Figure> {
    Some(Figure {
        mean,
        std,
        from_copy,
    })
}

/// The published row for a strategy of ours, per dataset (CIFAR-10, CIFAR-100,
/// ImageNet16-120), with the method's name in the paper.
pub fn row(strategy: &str) -> Option<(&'static str, [Option<Figure>; 3])> {
    match strategy {
        "random" => Some((
            "random search",
            [
                fig(93.70, Some(0.36), false),
                None,
                fig(44.57, Some(1.25), true),
            ],
        )),
        "regularized-evolution" => Some((
            "REA",
            [
                fig(93.92, Some(0.30), false),
                fig(71.84, None, false),
                fig(45.54, None, false),
            ],
        )),
        "reinforce" => Some((
            "REINFORCE",
            [
                fig(93.85, Some(0.37), false),
                fig(71.71, None, true),
                fig(45.24, None, true),
            ],
        )),
        _ => None,
    }
}

/// Every published black-box row on CIFAR-10 (for "closer to the optimum than any").
pub const BLACK_BOX_CIFAR10: [(&str, f64); 4] = [
    ("random search", 93.70),
    ("REA", 93.92),
    ("REINFORCE", 93.85),
    ("BOHB", 93.61),
];

/// The optimum of the table's 200-epoch test accuracy.
pub const OPTIMUM: [f64; 3] = [94.37, 73.51, 47.31];
