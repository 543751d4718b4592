//! The `rl-policy` evaluator: PPO learns CartPole with a small budget, runs are
//! reproducible to the bit, a diverging policy is a failed trial with its reason, and bad
//! configs are named.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use nas_backend_flex as _;
use nas_core::evaluator::CollectingReporter;
use nas_core::registry::{EvaluatorConfig, PluginConfig, SpaceConfig};
use nas_core::{EvalError, Evaluator, Fidelity, SearchSpace, Trial};
use nas_evo as _;
use nas_policy::PolicyConfig;
use nas_rl as _;
use nas_space::MlpSpaceConfig;
use std::sync::Arc;
use std::time::Instant;

fn space() -> Arc<dyn SearchSpace> {
    MlpSpaceConfig {
        dropouts: vec![0.0],
        ..MlpSpaceConfig::default()
    }
    .build()
    .unwrap()
}

fn trial(space: &dyn SearchSpace, arch: &str, seed: u64) -> Trial {
    Trial {
        id: 0,
        genotype: space.parse(arch).unwrap(),
        fidelity: Fidelity::default(),
        seed,
    }
}

fn evaluator(config: PolicyConfig) -> Arc<dyn Evaluator> {
    config.build(&space()).unwrap()
}

#[test]
fn ppo_learns_cartpole_and_repeats_itself_to_the_bit() {
    let space = space();
    let config = PolicyConfig {
        steps: 30_000,
        eval_episodes: 20,
        ..PolicyConfig::default()
    };
    let eval = evaluator(config);
    let t = trial(space.as_ref(), "64-64:tanh:0", 3);
    let started = Instant::now();
    let mut reporter = CollectingReporter::default();
    let a = eval.evaluate(&t, &mut reporter).unwrap();
    println!("{a:?} in {:.1} s", started.elapsed().as_secs_f64());
    // A random policy lasts about 22 steps.
    assert!(a.get("mean_return").unwrap() > 150.0, "{a:?}");
    assert_eq!(a.get("env_steps"), Some(30_208.0));
    assert_eq!(reporter.reports.len(), 10);
    let b = eval
        .evaluate(&t, &mut CollectingReporter::default())
        .unwrap();
    for name in ["mean_return", "return_sd", "train_return", "params_m"] {
        assert_eq!(
            a.get(name).map(f64::to_bits),
            b.get(name).map(f64::to_bits),
            "{name}"
        );
    }
}

#[test]
fn a_diverging_policy_is_a_failed_trial_with_its_reason() {
    let space = space();
    // Adam's steps are about the learning rate in size: at 1e30 the weights overflow.
    let eval = evaluator(PolicyConfig {
        steps: 2_000,
        learning_rate: 1e30,
        max_grad_norm: 1e30,
        eval_episodes: 2,
        ..PolicyConfig::default()
    });
    let t = trial(space.as_ref(), "16:relu:0", 1);
    match eval.evaluate(&t, &mut CollectingReporter::default()) {
        Err(EvalError::Failed(why)) => assert!(why.contains("diverged"), "{why}"),
        other => panic!("expected a failed trial, got {other:?}"),
    }
}

#[test]
fn bad_configs_are_named() {
    let space = space();
    let build = |json: serde_json::Value| {
        PluginConfig::<dyn EvaluatorConfig>::from_value(json)
            .map_err(|e| e.to_string())
            .and_then(|c| {
                c.config
                    .build(&space)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
    };
    let err = build(serde_json::json!({"type": "rl-policy", "env": "pendulum"})).unwrap_err();
    assert!(
        err.contains("env")
            && err.contains("unknown environment `pendulum`")
            && err.contains("cartpole"),
        "{err}"
    );
    let err = build(serde_json::json!({"type": "rl-policy", "gamma": 1.5})).unwrap_err();
    assert!(err.contains("gamma"), "{err}");
    let err = build(serde_json::json!({"type": "rl-policy", "envs": 0})).unwrap_err();
    assert!(err.contains("envs"), "{err}");
    let err = build(serde_json::json!({"type": "rl-policy", "horizon": 3})).unwrap_err();
    assert!(err.contains("horizon"), "{err}");
    let err = build(serde_json::json!({"type": "rl-policy", "backend": "tpu"})).unwrap_err();
    assert!(err.contains("tpu"), "{err}");
    build(serde_json::json!({"type": "rl-policy", "env": "Acrobot-v1"})).unwrap();
}

#[test]
fn acrobot_runs_and_a_fidelity_shortens_training() {
    let space = space();
    let eval = evaluator(PolicyConfig {
        env: "acrobot".into(),
        steps: 8_000,
        eval_episodes: 3,
        ..PolicyConfig::default()
    });
    let mut t = trial(space.as_ref(), "32:tanh:0", 2);
    t.fidelity.data_fraction = Some(0.25);
    let m = eval
        .evaluate(&t, &mut CollectingReporter::default())
        .unwrap();
    assert_eq!(m.get("env_steps"), Some(2_048.0));
    let r = m.get("mean_return").unwrap();
    assert!((-500.0..=0.0).contains(&r), "{m:?}");
}

#[test]
fn every_black_box_strategy_searches_policies_unchanged() {
    use nas_core::config::ExperimentConfig;
    use nas_core::journal::NullJournal;
    use nas_core::{Experiment, search::Quiet};
    let strategies = [
        ("random", vec!["mean_return"]),
        ("regularized-evolution", vec!["mean_return"]),
        ("large-scale-evolution", vec!["mean_return"]),
        ("local-search", vec!["mean_return"]),
        ("reinforce", vec!["mean_return"]),
        ("nsga2", vec!["mean_return", "params_m"]),
    ];
    for (strategy, objectives) in strategies {
        let config = serde_json::json!({
            "name": "rl",
            "seed": 4,
            "objectives": objectives,
            "budget": { "trials": 3 },
            "space": { "type": "mlp", "dropouts": [0.0], "widths": [8, 16] },
            "strategy": strategy,
            "evaluator": { "type": "rl-policy", "steps": 512, "eval_episodes": 2 },
        });
        let mut e = Experiment::build(ExperimentConfig::from_json(config).unwrap()).unwrap();
        let report = e.run_with(&mut NullJournal, &mut Quiet, None).unwrap();
        assert_eq!(report.progress.finished, 3, "{strategy}");
        assert_eq!(report.progress.failed, 0, "{strategy}");
    }
}
