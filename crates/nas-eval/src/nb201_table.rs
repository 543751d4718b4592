//! The NAS-Bench-201 tabular evaluator.
//!
//! Looks a cell up in the benchmark table (all 15,625 cells, embedded gzip-compressed, or
//! read from a path). The search signal is the validation accuracy at the trial's fidelity
//! (12 or 200 epochs); test accuracy is only reported, never searched on.
//!
//! The table has no training times, so `simulated_seconds` is a model, stated here once:
//! one epoch costs `images / 50,000 x (4 s + 0.109 s x MFLOPs)`, with 50,000 training
//! images for CIFAR-10/100 and 151,700 for ImageNet16-120. It is calibrated so that the
//! average CIFAR-10 cell costs about 10 s an epoch, which makes the paper's 12,000-second
//! budget at 12 epochs about 100 evaluations, as in the paper.

use flate2::read::GzDecoder;
use nas_core::evaluator::{SIMULATED_SECONDS, TRAIN_TFLOPS, TRAIN_TFLOPS_MEANS, training_tflops};
use nas_core::registry::{ConfigError, EvaluatorConfig};
use nas_core::{
    Control, EvalError, Evaluator, Genotype, Goal, MetricRole, MetricSpec, Metrics, Reporter,
    SearchSpace, Trial,
};
use nas_space::Nb201Space;
use nas_space::nb201::SIZE;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

const EMBEDDED: &[u8] = include_bytes!("../data/nb201.csv.gz");

/// A benchmark dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    #[default]
    Cifar10,
    Cifar100,
    Imagenet16,
}

impl Dataset {
    pub const ALL: [Dataset; 3] = [Dataset::Cifar10, Dataset::Cifar100, Dataset::Imagenet16];

    /// The column prefix in the table.
    pub fn column(self) -> &'static str {
        match self {
            Dataset::Cifar10 => "cifar10",
            Dataset::Cifar100 => "cifar100",
            Dataset::Imagenet16 => "imagenet16",
        }
    }

    pub(crate) fn training_images(self) -> f64 {
        match self {
            Dataset::Cifar10 | Dataset::Cifar100 => 50_000.0,
            Dataset::Imagenet16 => 151_700.0,
        }
    }
}

/// One cell's numbers on one dataset.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Entry {
    pub valid_acc: f64,
    pub test_acc: f64,
    pub valid_acc_12ep: f64,
    pub test_acc_12ep: f64,
    pub params_m: f64,
    pub flops_m: f64,
}

impl Entry {
    /// Modelled seconds to train this cell for `epochs` (see the module docs).
    pub fn simulated_seconds(&self, dataset: Dataset, epochs: u32) -> f64 {
        epochs as f64 * dataset.training_images() / 50_000.0 * (4.0 + 0.109 * self.flops_m)
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The benchmark's own index.
    pub index: u32,
    pub arch: String,
    pub ops: [u32; 6],
    pub entries: [Entry; 3],
}

impl Row {
    pub fn entry(&self, dataset: Dataset) -> &Entry {
        &self.entries[dataset as usize]
    }
}

/// A table that cannot be read: which file, which line, what was expected.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("NB201 table {path}: {reason}")]
    File { path: String, reason: String },
    #[error("NB201 table {path}, line {line}: {reason}")]
    Line {
        path: String,
        line: usize,
        reason: String,
    },
}

/// The whole benchmark, keyed by the cell's code number for O(1) lookups.
pub struct Nb201Table {
    rows: Vec<Row>,
}

impl std::fmt::Debug for Nb201Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Nb201Table({} rows)", self.rows.len())
    }
}

const COLUMNS: [&str; 6] = [
    "valid_acc",
    "test_acc",
    "valid_acc_12ep",
    "test_acc_12ep",
    "params_m",
    "flops_m",
];

impl Nb201Table {
    /// The table embedded in this crate, decoded once per process.
    ///
    /// # Errors
    /// Never for a correct build; the error path exists because decoding is fallible.
    pub fn embedded() -> Result<Arc<Nb201Table>, TableError> {
        static TABLE: OnceLock<Result<Arc<Nb201Table>, String>> = OnceLock::new();
        TABLE
            .get_or_init(|| {
                Self::from_gzip(EMBEDDED, "<embedded>")
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|reason| TableError::File {
                path: "<embedded>".into(),
                reason,
            })
    }

    /// Reads a table file, plain CSV or gzip-compressed.
    ///
    /// # Errors
    /// A missing, unreadable, truncated or malformed file.
    pub fn from_path(path: &Path) -> Result<Nb201Table, TableError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| TableError::File {
            path: name.clone(),
            reason: e.to_string(),
        })?;
        if bytes.starts_with(&[0x1f, 0x8b]) {
            Self::from_gzip(&bytes, &name)
        } else {
            let text = String::from_utf8(bytes).map_err(|_| TableError::File {
                path: name.clone(),
                reason: "not UTF-8 text (nor gzip)".into(),
            })?;
            Self::from_csv(&text, &name)
        }
    }

    fn from_gzip(bytes: &[u8], name: &str) -> Result<Nb201Table, TableError> {
        let mut text = String::new();
        GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .map_err(|e| TableError::File {
                path: name.into(),
                reason: format!("cannot decompress: {e}"),
            })?;
        Self::from_csv(&text, name)
    }

    /// Parses the CSV text (header row, then one row per cell).
    ///
    /// # Errors
    /// A missing column, a row with the wrong number of fields, a value that is not a
    /// number, an arch string that does not match its op code, a missing or repeated cell.
    pub fn from_csv(text: &str, name: &str) -> Result<Nb201Table, TableError> {
        let line_err = |line: usize, reason: String| TableError::Line {
            path: name.into(),
            line,
            reason,
        };
        let mut lines = text.lines().enumerate();
        let header: Vec<&str> = match lines.next() {
            Some((_, h)) => h.split(',').map(str::trim).collect(),
            None => {
                return Err(TableError::File {
                    path: name.into(),
                    reason: "empty file".into(),
                });
            }
        };
        let col = |wanted: &str| {
            header
                .iter()
                .position(|h| *h == wanted)
                .ok_or_else(|| line_err(1, format!("missing column `{wanted}`")))
        };
        let index_col = col("index")?;
        let arch_col = col("arch")?;
        let ops_col = col("ops")?;
        let mut value_cols = [[0usize; 6]; 3];
        for d in Dataset::ALL {
            for (k, c) in COLUMNS.iter().enumerate() {
                value_cols[d as usize][k] = col(&format!("{}_{c}", d.column()))?;
            }
        }
        let space = Nb201Space::new();
        let mut slots: Vec<Option<Row>> = vec![None; SIZE];
        for (i, line) in lines {
            let line_no = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != header.len() {
                return Err(line_err(
                    line_no,
                    format!("{} fields, the header has {}", fields.len(), header.len()),
                ));
            }
            let number = |c: usize| -> Result<f64, TableError> {
                let v: f64 = fields[c].trim().parse().map_err(|_| {
                    line_err(
                        line_no,
                        format!("`{}` = {:?} is not a number", header[c], fields[c]),
                    )
                })?;
                if v.is_finite() {
                    Ok(v)
                } else {
                    Err(line_err(line_no, format!("`{}` is not finite", header[c])))
                }
            };
            let g = space
                .from_op_code(fields[ops_col].trim())
                .map_err(|e| line_err(line_no, e.to_string()))?;
            let from_arch = space
                .parse(fields[arch_col].trim())
                .map_err(|e| line_err(line_no, e.to_string()))?;
            if from_arch != g {
                return Err(line_err(
                    line_no,
                    format!(
                        "arch {:?} does not match ops {}",
                        fields[arch_col], fields[ops_col]
                    ),
                ));
            }
            let ops = space
                .ops(&g)
                .map_err(|e| line_err(line_no, e.to_string()))?;
            let mut entries = [Entry::default(); 3];
            for d in Dataset::ALL {
                let c = value_cols[d as usize];
                entries[d as usize] = Entry {
                    valid_acc: number(c[0])?,
                    test_acc: number(c[1])?,
                    valid_acc_12ep: number(c[2])?,
                    test_acc_12ep: number(c[3])?,
                    params_m: number(c[4])?,
                    flops_m: number(c[5])?,
                };
            }
            let index = number(index_col)? as u32;
            let key = Nb201Space::code_number(&ops);
            if slots[key].is_some() {
                return Err(line_err(
                    line_no,
                    format!("cell {} appears twice", fields[ops_col]),
                ));
            }
            slots[key] = Some(Row {
                index,
                arch: fields[arch_col].trim().to_string(),
                ops,
                entries,
            });
        }
        let found = slots.iter().filter(|s| s.is_some()).count();
        if found != SIZE {
            return Err(TableError::File {
                path: name.into(),
                reason: format!("{found} cells, expected all {SIZE} (truncated file?)"),
            });
        }
        Ok(Nb201Table {
            rows: slots.into_iter().flatten().collect(),
        })
    }

    /// All rows, ordered by code number.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The row of a cell by its op indices.
    pub fn row(&self, ops: &[u32; 6]) -> &Row {
        &self.rows[Nb201Space::code_number(ops)]
    }

    /// The row of a genotype, `None` if it is not an NB201 cell.
    pub fn lookup(&self, g: &Genotype) -> Option<&Row> {
        if g.0.len() != 6 {
            return None;
        }
        let mut key = 0usize;
        for v in &g.0 {
            let d = v.as_index()?;
            if d > 4 {
                return None;
            }
            key = key * 5 + d as usize;
        }
        Some(&self.rows[key])
    }

    /// The best value of a column over the whole table.
    pub fn best(&self, dataset: Dataset, value: impl Fn(&Entry) -> f64) -> f64 {
        self.rows
            .iter()
            .map(|r| value(r.entry(dataset)))
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

fn default_epochs() -> u32 {
    200
}

/// Config of the `nb201-table` evaluator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nb201TableConfig {
    #[serde(default)]
    pub dataset: Dataset,
    /// Training length looked up when a trial does not set one: 12 (the benchmark's
    /// search protocol) or 200.
    #[serde(default = "default_epochs")]
    pub epochs: u32,
    /// A table file to read instead of the embedded one (CSV, optionally gzip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<PathBuf>,
    /// Sleep this long per evaluation, to make the benchmark behave like slow training
    /// (demos, crash and resume tests). Does not change any result.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub wall_delay_ms: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Default for Nb201TableConfig {
    fn default() -> Self {
        Nb201TableConfig {
            dataset: Dataset::Cifar10,
            epochs: default_epochs(),
            table: None,
            wall_delay_ms: 0,
        }
    }
}

impl EvaluatorConfig for Nb201TableConfig {
    fn knobs(&self) -> &'static [nas_core::registry::Knob] {
        const KNOBS: [nas_core::registry::Knob; 1] =
            [nas_core::registry::Knob::new("dataset", "dataset")];
        &KNOBS
    }

    fn build(&self, space: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError> {
        if space.name() != "nb201" {
            return Err(ConfigError(format!(
                "evaluates cells of the `nb201` space only, not `{}`",
                space.name()
            )));
        }
        if !matches!(self.epochs, 12 | 200) {
            return Err(ConfigError::field(
                "nb201-table",
                "epochs",
                format!("the table has 12 and 200 epochs, not {}", self.epochs),
            ));
        }
        let table = match &self.table {
            None => Nb201Table::embedded(),
            Some(path) => Nb201Table::from_path(path).map(Arc::new),
        }
        .map_err(|e| ConfigError(e.to_string()))?;
        Ok(Arc::new(Nb201TableEvaluator {
            table,
            dataset: self.dataset,
            epochs: self.epochs,
            wall_delay: std::time::Duration::from_millis(self.wall_delay_ms),
        }))
    }
}

nas_core::register!(
    dyn EvaluatorConfig,
    Nb201TableConfig,
    "nb201-table",
    "NAS-Bench-201 lookup: 12/200-epoch accuracy on CIFAR-10/100, ImageNet16-120; params, FLOPs."
);

/// Looks trials up in the table.
#[derive(Debug)]
pub struct Nb201TableEvaluator {
    pub table: Arc<Nb201Table>,
    pub dataset: Dataset,
    pub epochs: u32,
    pub wall_delay: std::time::Duration,
}

impl Evaluator for Nb201TableEvaluator {
    fn metrics(&self) -> Vec<MetricSpec> {
        let spec = MetricSpec::new;
        use Goal::*;
        use MetricRole::*;
        vec![
            spec(
                "valid_acc",
                Maximize,
                Objective,
                "validation accuracy (%) at the trial's epochs",
            ),
            spec(
                "test_acc",
                Maximize,
                Report,
                "test accuracy (%) at the trial's epochs",
            ),
            spec(
                "final_test_acc",
                Maximize,
                Report,
                "test accuracy (%) after 200 epochs: the benchmark's reported figure",
            ),
            spec("params_m", Minimize, Cost, "parameters, millions"),
            spec("flops_m", Minimize, Cost, "FLOPs, millions"),
            spec(
                SIMULATED_SECONDS,
                Minimize,
                Cost,
                "modelled training seconds (see nb201_table docs)",
            ),
            spec("epochs", Minimize, Cost, "training epochs looked up"),
            spec(TRAIN_TFLOPS, Minimize, Cost, TRAIN_TFLOPS_MEANS),
        ]
    }

    /// A 200-epoch lookup is a two-rung ladder: the 12-epoch row is reported first (step
    /// 12), so a pruner can stop the trial there, at the 12-epoch cost.
    fn evaluate(&self, trial: &Trial, reporter: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        let row = self.table.lookup(&trial.genotype).ok_or_else(|| {
            EvalError::Failed(format!("{:?} is not an NB201 cell", trial.genotype))
        })?;
        let epochs = trial.fidelity.epochs.unwrap_or(self.epochs);
        if trial.fidelity.data_fraction.is_some() || trial.fidelity.width.is_some() {
            return Err(EvalError::Failed(
                "the table has only epoch fidelities (12 or 200), not data fraction or width"
                    .into(),
            ));
        }
        if epochs != 12 && epochs != 200 {
            return Err(EvalError::Failed(format!(
                "the table has 12 and 200 epochs, not {epochs}"
            )));
        }
        if !self.wall_delay.is_zero() {
            std::thread::sleep(self.wall_delay);
        }
        let e = row.entry(self.dataset);
        let metrics = |epochs: u32| {
            let (valid, test) = if epochs == 12 {
                (e.valid_acc_12ep, e.test_acc_12ep)
            } else {
                (e.valid_acc, e.test_acc)
            };
            let mut m = Metrics::with_capacity(8);
            m.0.push(("valid_acc".into(), valid));
            m.0.push(("test_acc".into(), test));
            m.0.push(("final_test_acc".into(), e.test_acc));
            m.0.push(("params_m".into(), e.params_m));
            m.0.push(("flops_m".into(), e.flops_m));
            m.0.push((
                SIMULATED_SECONDS.into(),
                e.simulated_seconds(self.dataset, epochs),
            ));
            m.0.push(("epochs".into(), epochs as f64));
            m.0.push((
                TRAIN_TFLOPS.into(),
                training_tflops(e.flops_m, self.dataset.training_images(), epochs),
            ));
            m
        };
        if epochs == 200 {
            let early = metrics(12);
            if reporter.report(12, &early) == Control::Stop {
                return Err(EvalError::Pruned {
                    step: 12,
                    metrics: early,
                });
            }
        }
        Ok(metrics(epochs))
    }
}
