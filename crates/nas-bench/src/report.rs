//! Statistics and tables for the NB201 protocol benchmark.

use crate::nb201_protocol::RunRecord;
use crate::published::{self, Figure};
use nas_eval::Dataset;
use std::fmt::Write;

/// Mean, standard deviation and standard error of a sample.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub mean: f64,
    pub std: f64,
}

impl Stats {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Stats {
        let v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
        let n = v.len();
        if n == 0 {
            return Stats {
                n,
                mean: f64::NAN,
                std: f64::NAN,
            };
        }
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Stats {
            n,
            mean,
            std: var.sqrt(),
        }
    }

    pub fn stderr(&self) -> f64 {
        self.std / (self.n as f64).sqrt()
    }
}

/// One strategy on one dataset, over seeds.
#[derive(Debug, Clone)]
pub struct Cell {
    pub strategy: String,
    pub dataset: Dataset,
    pub result: Stats,
    /// Wall time of the search per evaluation: strategy, runner and table lookup.
    pub micros_per_eval: f64,
}

/// Groups runs by strategy and dataset, in the order strategies are given.
pub fn cells(runs: &[RunRecord], strategies: &[String]) -> Vec<Cell> {
    let mut out = Vec::new();
    for s in strategies {
        for d in Dataset::ALL {
            let mine: Vec<&RunRecord> = runs
                .iter()
                .filter(|r| &r.strategy == s && r.dataset == d)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let evals: usize = mine.iter().map(|r| r.curve.len()).sum();
            let wall: f64 = mine.iter().map(|r| r.wall_seconds).sum();
            out.push(Cell {
                strategy: s.clone(),
                dataset: d,
                result: Stats::of(mine.iter().map(|r| r.final_test())),
                micros_per_eval: wall * 1e6 / evals.max(1) as f64,
            });
        }
    }
    out
}

fn published_text(f: Option<Figure>) -> String {
    match f {
        None => "—".into(),
        Some(f) => {
            let mut t = match f.std {
                Some(s) => format!("{:.2} ± {:.2}", f.mean, s),
                None => format!("{:.2}", f.mean),
            };
            if f.from_copy {
                t += " (copy)";
            }
            t
        }
    }
}

/// The Markdown table: ours beside the published row, per dataset.
pub fn markdown(cells: &[Cell], strategies: &[String], seeds: usize, trials: u64) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "NAS-Bench-201, search signal: 12-epoch validation accuracy; reported: 200-epoch test \
         accuracy of the returned cell (%), mean ± std over {seeds} seeds, {trials} evaluations \
         per search. Published: Dong & Yang, ICLR 2020.\n"
    );
    let _ = writeln!(
        md,
        "| strategy | CIFAR-10 | published | CIFAR-100 | published | ImageNet16-120 | published | regret C-10 | µs/eval |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    for s in strategies {
        let published = published::row(s);
        let mut line = format!("| {s} ");
        let mut regret = String::from("—");
        let mut micros = 0.0f64;
        for (k, d) in Dataset::ALL.iter().enumerate() {
            let cell = cells.iter().find(|c| &c.strategy == s && c.dataset == *d);
            match cell {
                Some(c) => {
                    let _ = write!(line, "| {:.2} ± {:.2} ", c.result.mean, c.result.std);
                    micros = micros.max(c.micros_per_eval);
                    if k == 0 {
                        regret = format!("{:.2}", published::OPTIMUM[0] - c.result.mean);
                    }
                }
                None => line += "| — ",
            }
            let fig = published.and_then(|(_, row)| row[k]);
            let _ = write!(line, "| {} ", published_text(fig));
        }
        let _ = writeln!(line, "| {regret} | {micros:.1} |");
        md += &line;
    }
    let _ = writeln!(
        md,
        "| optimum in the table | {:.2} | | {:.2} | | {:.2} | | 0 | |",
        published::OPTIMUM[0],
        published::OPTIMUM[1],
        published::OPTIMUM[2]
    );
    md
}

/// The CSV: one row per strategy and dataset.
pub fn csv(cells: &[Cell]) -> String {
    let mut out = String::from(
        "strategy,dataset,seeds,mean_test_acc,std_test_acc,stderr_test_acc,published_mean,published_std,micros_per_eval\n",
    );
    for c in cells {
        let k = Dataset::ALL
            .iter()
            .position(|d| *d == c.dataset)
            .unwrap_or(0);
        let fig = published::row(&c.strategy).and_then(|(_, row)| row[k]);
        let _ = writeln!(
            out,
            "{},{},{},{:.4},{:.4},{:.4},{},{},{:.3}",
            c.strategy,
            c.dataset.column(),
            c.result.n,
            c.result.mean,
            c.result.std,
            c.result.stderr(),
            fig.map(|f| format!("{:.2}", f.mean)).unwrap_or_default(),
            fig.and_then(|f| f.std)
                .map(|s| format!("{s:.2}"))
                .unwrap_or_default(),
            c.micros_per_eval
        );
    }
    out
}

/// Mean and standard deviation of the curves, evaluation by evaluation.
pub fn curve_band(runs: &[&RunRecord]) -> Vec<Stats> {
    let len = runs.iter().map(|r| r.curve.len()).max().unwrap_or(0);
    (0..len)
        .map(|i| Stats::of(runs.iter().filter_map(|r| r.curve.get(i).copied())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_by_hand() {
        let s = Stats::of([1.0, 2.0, 3.0, f64::NAN]);
        assert_eq!(s.n, 3);
        assert_eq!(s.mean, 2.0);
        assert_eq!(s.std, 1.0);
        assert!((s.stderr() - 1.0 / 3f64.sqrt()).abs() < 1e-12);
    }
}
