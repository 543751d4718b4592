//! The example space as a user meets it: its networks have the parameters its cost model
//! counts, bad configs are refused by field, and its own `nas` searches it with random
//! search, regularized evolution and REINFORCE under the `train` and `zero-cost`
//! evaluators, which know nothing of it but its registration.

#![allow(clippy::unwrap_used)] // Tests fail loudly by design.

use custom_space::ResNetBuilder;
use nas_builtins as _; // The flex backend, for the network test.
use nas_core::registry::{PluginConfig, SpaceConfig};
use nas_core::{Rng, SearchSpace};
use nas_nn::{Classifier, NetSpec, NetworkBuilder, Task};
use std::process::Command;
use std::sync::Arc;

fn space(json: serde_json::Value) -> Result<Arc<dyn SearchSpace>, String> {
    PluginConfig::<dyn SpaceConfig>::from_value(json)
        .map_err(|e| e.to_string())?
        .config
        .build()
        .map_err(|e| e.to_string())
}

#[test]
fn every_network_has_the_counted_parameters_and_classifies() {
    let s = space(serde_json::json!({"type": "resnet"})).unwrap();
    let device = nas_nn::device("flex").unwrap();
    let mut rng = Rng::new(7);
    for input in [[1, 8, 8], [3, 7, 9]] {
        let spec = NetSpec {
            task: Task::images(input, 10),
            width: 16,
            depth: 1,
        };
        for _ in 0..12 {
            let g = s.sample(&mut rng);
            let arch = ResNetBuilder.decode(s.as_ref(), &g).unwrap();
            let net = ResNetBuilder.build(&arch, &spec, &device, 1);
            let cost = ResNetBuilder.cost(&arch, &spec);
            assert_eq!(
                net.trainable_params() as u64,
                cost.params,
                "{}",
                s.render(&g)
            );
            let [c, h, w] = input;
            let x = burn::tensor::Tensor::<4>::ones([2, c, h, w], &device);
            assert_eq!(net.forward(x).dims(), [2, 10]);
        }
    }
    assert!(nas_nn::networks().contains(&"resnet"));
}

#[test]
fn unknown_settings_and_foreign_genotypes_are_refused() {
    let e = space(serde_json::json!({"type": "resnet", "widths": [4]})).unwrap_err();
    assert!(e.contains("widths"), "{e}");
    let s = space(serde_json::json!({"type": "resnet"})).unwrap();
    let nb201 = nas_core::Genotype::from_indices([3, 3, 3, 3, 3, 3]);
    assert!(ResNetBuilder.decode(s.as_ref(), &nb201).is_err());
}

#[test]
fn its_own_nas_searches_it_with_three_strategies_and_two_evaluators() {
    let dir = tempfile::tempdir().unwrap();
    for evaluator in ["train", "zero-cost"] {
        for strategy in ["random", "regularized-evolution", "reinforce"] {
            let mut args = vec![
                "search",
                "--space",
                "resnet",
                "--strategy",
                strategy,
                "--evaluator",
                evaluator,
                "--trials",
                "3",
                "--json",
                "--dir",
            ];
            args.push(dir.path().to_str().unwrap());
            if evaluator == "train" {
                args.extend([
                    "--set",
                    "evaluator.epochs=1",
                    "--set",
                    "evaluator.data_fraction=0.25",
                ]);
            } else {
                args.extend(["--set", "evaluator.input=[1,8,8]"]);
            }
            let out = Command::new(env!("CARGO_BIN_EXE_nas-resnet"))
                .args(&args)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{strategy} / {evaluator}: {stderr}");
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let progress = &json["report"]["progress"];
            assert_eq!(progress["completed"], 3, "{strategy} / {evaluator}: {json}");
            let metrics = &progress["best"]["outcome"]["metrics"];
            assert!(metrics["params_m"].as_f64().unwrap() > 0.0, "{metrics}");
            let objective = if evaluator == "train" {
                "valid_acc"
            } else {
                "score"
            };
            assert!(
                metrics[objective].as_f64().unwrap().is_finite(),
                "{metrics}"
            );
        }
    }
}
