//! An evaluator written outside the framework: `csv-lookup` reads the results of NB201
//! cells from a CSV file of the user's (a benchmark table of their own, keyed by op code)
//! and answers trials from it, without training anything.
//!
//! What it shows a third party:
//! - a config with a `path`, checked when the evaluator is built (a missing file, column
//!   or malformed row is an error naming the file and line, before the search starts);
//! - reaching the concrete space the evaluator was built for:
//!   [`downcast_ref`](nas_core::SearchSpace) gives the `Nb201Space`, whose `ops` turns a
//!   genotype into the table's key; any other space is refused by name;
//! - the metrics it reports, with their roles (an objective, a report-only test
//!   accuracy), so that `nas search` checks objectives before it runs.

use nas_core::registry::{ConfigError, EvaluatorConfig};
use nas_core::{
    EvalError, Evaluator, Goal, MetricRole, MetricSpec, Metrics, Reporter, SearchSpace, Trial,
};
use nas_space::Nb201Space;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

const NAME: &str = "csv-lookup";

/// Config of the `csv-lookup` evaluator.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsvLookupConfig {
    /// The table: a header row, then one row per cell.
    pub path: PathBuf,
    /// The column holding a cell's six-digit op code (`333132`).
    pub key: String,
    /// The column reported as `valid_acc`, the search signal.
    pub valid: String,
    /// The column reported as `test_acc` (report-only: never searched on).
    pub test: String,
}

impl Default for CsvLookupConfig {
    /// NAS-Bench-201's columns, as in `shared/data/nas-bench-201/nb201.csv`.
    fn default() -> Self {
        CsvLookupConfig {
            path: PathBuf::from("nb201.csv"),
            key: "ops".into(),
            valid: "cifar10_valid_acc".into(),
            test: "cifar10_test_acc".into(),
        }
    }
}

impl EvaluatorConfig for CsvLookupConfig {
    fn build(&self, space: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError> {
        // The evaluator needs NB201's own method (`ops`), not just the trait.
        let Some(nb201) = space.downcast_ref::<Nb201Space>() else {
            return Err(ConfigError(format!(
                "{NAME}: reads NB201 cells by op code; the space `{}` is not NB201",
                space.name()
            )));
        };
        let rows = read_table(self)?;
        Ok(Arc::new(CsvLookup {
            space: nb201.clone(),
            rows,
        }))
    }
}

nas_core::register!(
    dyn EvaluatorConfig,
    CsvLookupConfig,
    NAME,
    "Example plugin: NB201 results looked up in a CSV table of your own."
);

/// Every row's (valid, test) accuracy by op code.
fn read_table(config: &CsvLookupConfig) -> Result<HashMap<String, (f64, f64)>, ConfigError> {
    let file = config.path.display();
    let text = std::fs::read_to_string(&config.path)
        .map_err(|e| ConfigError(format!("{NAME}: cannot read {file}: {e}")))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| ConfigError(format!("{NAME}: {file} has no column `{name}`")))
    };
    let (key, valid, test) = (
        column(&config.key)?,
        column(&config.valid)?,
        column(&config.test)?,
    );
    let mut rows = HashMap::new();
    for (i, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let number = |c: usize| -> Result<f64, ConfigError> {
            let raw = fields.get(c).map_or("", |f| f.trim());
            raw.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    ConfigError(format!(
                        "{NAME}: {file}, line {}: `{}` is {raw:?}, not a number",
                        i + 2,
                        header[c]
                    ))
                })
        };
        let code = fields.get(key).map_or("", |f| f.trim()).to_string();
        rows.insert(code, (number(valid)?, number(test)?));
    }
    Ok(rows)
}

/// The built evaluator: the space it reads keys with, and the table.
#[derive(Debug)]
pub struct CsvLookup {
    space: Nb201Space,
    rows: HashMap<String, (f64, f64)>,
}

impl Evaluator for CsvLookup {
    fn metrics(&self) -> Vec<MetricSpec> {
        vec![
            MetricSpec::new(
                "valid_acc",
                Goal::Maximize,
                MetricRole::Objective,
                "validation accuracy from the table (%)",
            ),
            MetricSpec::new(
                "test_acc",
                Goal::Maximize,
                MetricRole::Report,
                "test accuracy from the table (%), never searched on",
            ),
        ]
    }

    fn evaluate(&self, trial: &Trial, _: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        let ops = self
            .space
            .ops(&trial.genotype)
            .map_err(|e| EvalError::Failed(e.to_string()))?;
        let code: String = ops.iter().map(|op| op.to_string()).collect();
        let (valid, test) = self
            .rows
            .get(&code)
            .ok_or_else(|| EvalError::Failed(format!("cell {code} is not in the table")))?;
        let mut metrics = Metrics::default();
        metrics.set("valid_acc", *valid);
        metrics.set("test_acc", *test);
        Ok(metrics)
    }
}
