//! Joint architecture and hyperparameter search: the joint space's operators, and
//! searches whose hyperparameters reach the evaluator's config.

use nas_core::config::Budget;
use nas_core::joint::{HyperParameter, Hyperparameters, JointSpace};
use nas_core::registry::{ConfigError, EvaluatorConfig};
use nas_core::search::Quiet;
use nas_core::testkit::Toy;
use nas_core::{
    EvalError, Evaluator, Experiment, ExperimentConfig, Genotype, Goal, MetricRole, MetricSpec,
    Metrics, Reporter, Rng, SearchSpace, Trial, TrialResult, Value,
};
use nas_storage_sqlite::SqliteJournal;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// Reports the settings it was built with, so a test sees what reached its config.
#[derive(Debug)]
struct Settings {
    config: SettingsConfig,
}

impl Evaluator for Settings {
    fn metrics(&self) -> Vec<MetricSpec> {
        let report = |name: &'static str| MetricSpec {
            name: name.into(),
            goal: Goal::Maximize,
            role: MetricRole::Report,
            description: "a setting".into(),
        };
        vec![
            MetricSpec {
                name: "score".into(),
                goal: Goal::Maximize,
                role: MetricRole::Objective,
                description: "indices, better with a middling rate".into(),
            },
            report("rate"),
            report("adam"),
            report("epochs"),
            report("decisions"),
        ]
    }

    fn evaluate(&self, trial: &Trial, _: &mut dyn Reporter) -> Result<Metrics, EvalError> {
        if self.config.crash_at == Some(trial.id) {
            return Err(EvalError::Fatal("simulated crash".into()));
        }
        std::thread::sleep(std::time::Duration::from_millis(self.config.delay_ms));
        let idx = trial.genotype.indices().ok_or_else(|| {
            EvalError::Failed(format!("not the toy's genotype: {:?}", trial.genotype))
        })?;
        let mut m = Metrics::default();
        m.set(
            "score",
            idx.iter().sum::<u32>() as f64 - (self.config.rate.ln() + 3.0).abs(),
        );
        m.set("rate", self.config.rate);
        m.set("adam", f64::from(u8::from(self.config.optimizer == "adam")));
        m.set("epochs", f64::from(self.config.epochs));
        m.set("decisions", trial.genotype.0.len() as f64);
        Ok(m)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SettingsConfig {
    rate: f64,
    optimizer: String,
    epochs: u32,
    crash_at: Option<u64>,
    delay_ms: u64,
}

impl Default for SettingsConfig {
    fn default() -> Self {
        SettingsConfig {
            rate: 0.1,
            optimizer: "sgd".into(),
            epochs: 2,
            crash_at: None,
            delay_ms: 0,
        }
    }
}

impl EvaluatorConfig for SettingsConfig {
    fn build(&self, space: &Arc<dyn SearchSpace>) -> Result<Arc<dyn Evaluator>, ConfigError> {
        if space.downcast_ref::<JointSpace>().is_some() {
            return Err(ConfigError("built against the joint space".into()));
        }
        if !(self.rate > 0.0 && self.rate <= 1.0) {
            return Err(ConfigError::field(
                "settings",
                "rate",
                format!("must be in (0, 1], got {}", self.rate),
            ));
        }
        if !["sgd", "adam"].contains(&self.optimizer.as_str()) {
            return Err(ConfigError::field(
                "settings",
                "optimizer",
                format!("unknown optimizer {:?}", self.optimizer),
            ));
        }
        Ok(Arc::new(Settings {
            config: self.clone(),
        }))
    }
}

nas_core::register!(
    dyn EvaluatorConfig,
    SettingsConfig,
    "settings",
    "Reports the settings it was built with."
);

const JOINT: &str = r#"
name = "j"
seed = 5
[budget]
trials = 30
[space]
type = "toy"
[strategy]
type = "greedy"
[evaluator]
type = "settings"
[[hyperparameters]]
path = "rate"
low = 0.001
high = 1.0
log = true
[[hyperparameters]]
path = "optimizer"
choices = ["sgd", "adam"]
[[hyperparameters]]
path = "epochs"
low = 1
high = 4
"#;

fn joint_config(extra_eval: &str, trials: u64) -> ExperimentConfig {
    let text = JOINT.replace(
        "type = \"settings\"",
        &format!("type = \"settings\"\n{extra_eval}"),
    );
    let mut c = ExperimentConfig::from_toml(&text).unwrap();
    c.budget = Budget::trials(trials);
    c
}

fn build_error(text: &str) -> String {
    ExperimentConfig::from_toml(text)
        .map_err(|e| e.to_string())
        .and_then(|c| Experiment::build(c).map_err(|e| e.to_string()))
        .err()
        .unwrap_or_default()
}

/// The finished trials, typed by the experiment's space (JSON has bare numbers).
fn finished(dir: &std::path::Path) -> Vec<TrialResult> {
    let space = Experiment::build(joint_config("", 1)).unwrap().space;
    let mut state = SqliteJournal::read(&dir.join("j.sqlite")).unwrap();
    state.conform(space.as_ref());
    state.finished
}

fn metric(r: &TrialResult, name: &str) -> f64 {
    r.outcome.metrics().unwrap().get(name).unwrap()
}

#[test]
fn each_trial_is_evaluated_with_its_hyperparameters() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = Experiment::build(joint_config("", 30)).unwrap();
    assert_eq!(e.space.decisions().len(), 7);
    assert_eq!(e.space.decisions()[4].name, "hp.rate");
    e.run_in(dir.path(), &mut Quiet).unwrap();
    let results = finished(dir.path());
    assert_eq!(results.len(), 30);
    let mut rates = Vec::new();
    for r in &results {
        let g = &r.trial.genotype.0;
        let Value::Real(rate) = g[4] else {
            panic!("rate {:?}", g[4])
        };
        let Value::Int(epochs) = g[6] else {
            panic!("epochs {:?}", g[6])
        };
        assert_eq!(metric(r, "rate"), rate, "trial {}", r.trial.id);
        assert_eq!(metric(r, "adam"), f64::from(g[5] == Value::Index(1)));
        assert_eq!(metric(r, "epochs"), epochs as f64);
        // The evaluator saw the toy's 4 decisions, not the joint 7.
        assert_eq!(metric(r, "decisions"), 4.0);
        assert!((0.001..=1.0).contains(&rate) && (1..=4).contains(&epochs));
        rates.push(rate.to_bits());
    }
    rates.sort_unstable();
    rates.dedup();
    assert!(rates.len() > 2, "the search varied the rate: {rates:?}");
    let arch = e.space.render(&results[0].trial.genotype);
    assert!(
        arch.contains(" rate=") && arch.contains(" optimizer=") && arch.contains(" epochs="),
        "{arch}"
    );
}

#[test]
fn a_path_or_a_value_the_evaluator_refuses_is_a_config_error() {
    let unknown = build_error(&JOINT.replace("path = \"rate\"", "path = \"learning_rate\""));
    assert!(
        unknown.contains("`hyperparameters[0].path`") && unknown.contains("learning_rate"),
        "{unknown}"
    );
    let too_high = build_error(&JOINT.replace("high = 1.0", "high = 2.5"));
    assert!(
        too_high.contains("`hyperparameters[0].path`") && too_high.contains("rate = 2.5"),
        "{too_high}"
    );
    let bad_choice = build_error(&JOINT.replace("\"adam\"]", "\"lamb\"]"));
    assert!(
        bad_choice.contains("`hyperparameters[1].path`") && bad_choice.contains("\"lamb\""),
        "{bad_choice}"
    );
    let wrong_type = build_error(&JOINT.replace("high = 4", "high = 4.5"));
    assert!(
        wrong_type.contains("`hyperparameters[2].path`"),
        "{wrong_type}"
    );
    let through = build_error(&JOINT.replace("path = \"epochs\"", "path = \"epochs.x\""));
    assert!(
        through.contains("`hyperparameters[2].path`") && through.contains("not a table"),
        "{through}"
    );
    let no_domain = build_error(&JOINT.replace("choices = [\"sgd\", \"adam\"]", ""));
    assert!(no_domain.contains("`hyperparameters[1]`"), "{no_domain}");
    let unknown_field = build_error(&JOINT.replace("log = true", "log = true\nstep = 2"));
    assert!(unknown_field.contains("step"), "{unknown_field}");
    let one_shot = build_error(&JOINT.replace("type = \"greedy\"", "type = \"needs-data\""));
    assert!(
        one_shot.contains("field `hyperparameters`") && one_shot.contains("needs-data"),
        "{one_shot}"
    );
}

#[test]
fn a_config_without_hyperparameters_reads_and_writes_as_before() {
    let plain =
        ExperimentConfig::from_toml(&JOINT[..JOINT.find("[[hyperparameters]]").unwrap()]).unwrap();
    assert!(plain.to_json().unwrap().get("hyperparameters").is_none());
    let joint = joint_config("", 30);
    let json = joint.to_json().unwrap();
    assert_eq!(json["hyperparameters"][0]["low"], json!(0.001));
    assert_eq!(json["hyperparameters"][2]["high"], json!(4));
    let back = ExperimentConfig::from_json(json.clone()).unwrap();
    assert_eq!(back.to_json().unwrap(), json);
    let toml = ExperimentConfig::from_toml(&joint.to_toml().unwrap()).unwrap();
    assert_eq!(toml.to_json().unwrap(), json);
}

#[test]
fn a_joint_search_resumes_exactly_and_refuses_other_hyperparameters() {
    let reference = tempfile::tempdir().unwrap();
    Experiment::build(joint_config("delay_ms = 4", 30))
        .unwrap()
        .run_in(reference.path(), &mut Quiet)
        .unwrap();
    let expected = finished(reference.path());

    // Killed at trial 17, then resumed.
    let dir = tempfile::tempdir().unwrap();
    let config_json = joint_config("delay_ms = 4", 30).to_json().unwrap();
    let (mut journal, _) = SqliteJournal::open(
        &dir.path().join("j.sqlite"),
        &config_json,
        Box::new(|_| String::new()),
    )
    .unwrap();
    let err = Experiment::build(joint_config("delay_ms = 4\ncrash_at = 17", 30))
        .unwrap()
        .run_with(&mut journal, &mut Quiet, None)
        .unwrap_err();
    assert!(err.to_string().contains("simulated crash"), "{err}");
    drop(journal);
    let report = Experiment::build(joint_config("delay_ms = 4", 30))
        .unwrap()
        .run_in(dir.path(), &mut Quiet)
        .unwrap();
    assert!(report.resumed > 0);
    let got = finished(dir.path());
    let key = |rs: &[TrialResult]| {
        rs.iter()
            .map(|r| {
                (
                    r.trial.id,
                    r.trial.genotype.clone(),
                    format!("{:?}", r.outcome),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&got), key(&expected));

    let mut other = joint_config("delay_ms = 4", 30);
    other.hyperparameters[1] = HyperParameter::choices("optimizer", vec![json!("adam")]);
    let err = Experiment::build(other)
        .unwrap()
        .run_in(dir.path(), &mut Quiet)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("another config") && err.contains("hyperparameters[1].choices"),
        "{err}"
    );
}

/// A twin toy (genotypes that compute the same function) with a log-scaled real, an
/// integer and a categorical hyperparameter.
fn joint_toy() -> JointSpace {
    let hps = Hyperparameters::check(&[
        HyperParameter::real("learning_rate", 1e-4, 0.5, true),
        HyperParameter::integer("epochs", 1, 5),
        HyperParameter::choices("optimizer", vec![json!("sgd"), json!("adam"), json!(3)]),
    ])
    .unwrap();
    JointSpace::new(Arc::new(Toy::with_twins(6, 3)), hps)
}

proptest! {
    #[test]
    fn joint_operators_keep_the_architecture_valid_and_the_hyperparameters_in_domain(
        seed in any::<u64>(),
    ) {
        let space = joint_toy();
        let inner = Arc::clone(space.inner());
        let mut rng = Rng::new(seed);
        let a = space.sample(&mut rng);
        let b = space.sample(&mut rng);
        let mut children: Vec<Genotype> = vec![a.clone(), space.mutate(&a, &mut rng)];
        children.extend(space.crossover(&a, &b, &mut rng));
        children.extend(space.neighbors(&a));
        for g in &children {
            prop_assert!(space.validate(g).is_ok(), "{:?}: {:?}", g, space.validate(g));
            let (prefix, hps) = space.split(g);
            prop_assert!(inner.validate(&prefix).is_ok());
            prop_assert_eq!(hps.len(), 3);
            let text = space.render(g);
            prop_assert_eq!(&space.parse(&text).unwrap(), g, "{}", text);
        }
        // A mutation changes one part only.
        let m = space.mutate(&a, &mut rng);
        let (pa, ha) = space.split(&a);
        let (pm, hm) = space.split(&m);
        prop_assert!(pa == pm || ha == hm);
        // Twins of the inner space with the same hyperparameters are one function;
        // other hyperparameters make another.
        let (prefix, hps) = space.split(&a);
        let mut twin = nas_core::testkit::canonical(&prefix);
        twin.0.extend_from_slice(hps);
        prop_assert_eq!(space.fingerprint(&twin), space.fingerprint(&a));
        let mut other = a.clone();
        other.0[7] = Value::Int(if other.0[7] == Value::Int(1) { 2 } else { 1 });
        prop_assert_ne!(space.fingerprint(&other), space.fingerprint(&a));
    }
}

#[test]
fn a_malformed_joint_string_is_a_clear_error() {
    let space = joint_toy();
    let good = space.render(&space.sample(&mut Rng::new(1)));
    for bad in [
        "c0,c1,c2,c0,c1,c2".to_string(),
        good.replace("optimizer=", "optimiser="),
        good.replace("epochs=", "epochs=x"),
        good.replace("learning_rate=", "learning_rate=-"),
    ] {
        let err = space
            .parse(&bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("cannot parse"), "{bad}: {err}");
    }
    assert_eq!(space.name(), "twin-toy");
    assert_eq!(
        space.distinct_functions(),
        None,
        "a real hyperparameter has no finite count"
    );
}
