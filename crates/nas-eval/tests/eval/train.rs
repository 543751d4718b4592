//! The training evaluator on the spaces that register a network: chain CNNs and MLPs are
//! built with as many parameters as their cost models count, train on the embedded
//! digits, and a space without a network is refused.

use nas_backend_flex as _;
use nas_backend_ndarray as _;
use nas_core::evaluator::CollectingReporter;
use nas_core::registry::PluginConfig;
use nas_core::{
    Decision, Evaluator, EvaluatorConfig, Fidelity, Rng, SearchSpace, SpaceConfig, Trial,
};
use nas_nn::{Classifier, NetSpec, Task, device};
use nas_space::lenet;
use nas_space::nn::LeNet5Net;
use std::sync::Arc;

/// The networks' shape on the embedded digits; width and depth concern NB201 only.
const DIGITS: NetSpec = NetSpec {
    task: Task::images([1, 8, 8], 10),
    width: 16,
    depth: 5,
};

fn space(json: serde_json::Value) -> Arc<dyn SearchSpace> {
    PluginConfig::<dyn SpaceConfig>::from_value(json)
        .unwrap()
        .config
        .build()
        .unwrap()
}

/// A tiny chain CNN space: 4 layers, 4 or 8 filters.
fn tiny_chain() -> Arc<dyn SearchSpace> {
    space(serde_json::json!({
        "type": "chain-cnn", "layers": 4, "filters": [4, 8], "kernels": [1, 3, 5], "strides": [1, 2]
    }))
}

fn tiny_mlp() -> Arc<dyn SearchSpace> {
    space(serde_json::json!({
        "type": "mlp", "max_layers": 3, "widths": [16, 32], "dropouts": [0.0, 0.2]
    }))
}

fn evaluator(space: &Arc<dyn SearchSpace>, fields: serde_json::Value) -> Arc<dyn Evaluator> {
    let mut v = serde_json::json!({"type": "train", "epochs": 4, "learning_rate": 0.1});
    for (k, x) in fields.as_object().unwrap() {
        v[k] = x.clone();
    }
    let config = PluginConfig::<dyn EvaluatorConfig>::from_value(v).unwrap();
    config.config.build(space).unwrap()
}

fn trial(space: &dyn SearchSpace, text: &str, seed: u64) -> Trial {
    Trial {
        id: 0,
        genotype: space.parse(text).unwrap(),
        fidelity: Fidelity::default(),
        seed,
    }
}

#[test]
fn built_networks_have_the_counted_parameters() {
    let d = device("flex").unwrap();
    let mut rng = Rng::new(2026);
    let params = |s: &Arc<dyn SearchSpace>, g: &nas_core::Genotype| -> usize {
        use nas_nn::NetworkBuilder;
        use nas_space::nn::{ChainCnnNetwork, MlpNetwork};
        if s.name() == "mlp" {
            let a = MlpNetwork.decode(s.as_ref(), g).unwrap();
            MlpNetwork.build(&a, &DIGITS, &d, 1).trainable_params()
        } else {
            let a = ChainCnnNetwork.decode(s.as_ref(), g).unwrap();
            ChainCnnNetwork.build(&a, &DIGITS, &d, 1).trainable_params()
        }
    };
    let spaces = [
        space(serde_json::json!({"type": "chain-cnn"})),
        tiny_chain(),
        space(serde_json::json!({"type": "mlp"})),
        tiny_mlp(),
    ];
    for s in &spaces {
        for _ in 0..25 {
            let g = s.sample(&mut rng);
            let cost = nas_nn::network_of(s.name())
                .unwrap()
                .cost(s.as_ref(), &g, &DIGITS)
                .unwrap();
            assert_eq!(
                params(s, &g) as u64,
                cost.params,
                "{}: {}",
                s.name(),
                s.render(&g)
            );
        }
    }
}

#[test]
fn chains_with_skips_across_strides_run_forward() {
    let d = device("flex").unwrap();
    let s = tiny_chain();
    // Layer 2 reads 8x8 (layer 0) and 4x4 (layer 1) maps; layer 3 reads the image size
    // chain 8 -> 4 -> 2 and layer 0 again.
    let g = s.parse("f4k3s1|f8k3s2|f4k5s2<0,1|f8k1s1<0,2").unwrap();
    let network = nas_space::nn::ChainCnnNetwork;
    let arch = nas_nn::NetworkBuilder::decode(&network, s.as_ref(), &g).unwrap();
    let model = nas_nn::NetworkBuilder::build(&network, &arch, &DIGITS, &d, 3);
    let x = burn::tensor::Tensor::<4>::ones([3, 1, 8, 8], &d);
    assert_eq!(Classifier::forward(&model, x).dims(), [3, 10]);
}

#[test]
fn chain_cnns_and_mlps_learn_the_digits() {
    for (s, text) in [
        (tiny_chain(), "f8k3s1|f8k3s2|f8k3s1<0,1|f8k1s1"),
        (tiny_mlp(), "32-16:relu:0.2"),
    ] {
        let e = evaluator(&s, serde_json::json!({}));
        let mut reports = CollectingReporter::default();
        let m = e
            .evaluate(&trial(s.as_ref(), text, 5), &mut reports)
            .unwrap();
        assert_eq!(reports.reports.len(), 4, "{text}: one report per epoch");
        let loss = m.get("valid_loss").unwrap();
        assert!(loss.is_finite(), "{text}: {m:?}");
        // Chance is 10% on ten balanced classes.
        assert!(m.get("valid_acc").unwrap() > 30.0, "{text}: {m:?}");
        let g = s.parse(text).unwrap();
        let cost = nas_nn::network_of(s.name())
            .unwrap()
            .cost(s.as_ref(), &g, &DIGITS)
            .unwrap();
        assert_eq!(m.get("params_m").unwrap(), cost.params_m(), "{text}");
        assert_eq!(m.get("flops_m").unwrap(), cost.flops_m(), "{text}");
        // Dropout masks come from the trial seed: the same seed gives the same bits.
        let again = e
            .evaluate(
                &trial(s.as_ref(), text, 5),
                &mut CollectingReporter::default(),
            )
            .unwrap();
        assert_eq!(
            m.get("train_loss").unwrap().to_bits(),
            again.get("train_loss").unwrap().to_bits(),
            "{text}"
        );
    }
}

/// A space the evaluator has no network for.
#[derive(Debug)]
struct Unknown(Vec<Decision>);

impl SearchSpace for Unknown {
    fn name(&self) -> &str {
        "unknown-space"
    }
    fn decisions(&self) -> &[Decision] {
        &self.0
    }
}

#[test]
fn spaces_without_a_network_are_refused() {
    let s: Arc<dyn SearchSpace> = Arc::new(Unknown(vec![Decision::categorical("x", &["a"])]));
    let v = serde_json::json!({"type": "train"});
    let config = PluginConfig::<dyn EvaluatorConfig>::from_value(v).unwrap();
    let e = config.config.build(&s).unwrap_err().to_string();
    assert!(
        e.contains("chain-cnn, darts, mlp, nb201") && e.contains("unknown-space"),
        "{e}"
    );
    let v = serde_json::json!({"type": "zero-cost"});
    let config = PluginConfig::<dyn EvaluatorConfig>::from_value(v).unwrap();
    let e = config.config.build(&s).unwrap_err().to_string();
    assert!(e.contains("unknown-space"), "{e}");
}

#[test]
fn the_lenet_baseline_counts_like_its_cost_model_and_trains() {
    let d = device("flex").unwrap();
    for (input, classes) in [([1, 8, 8], 10), ([1, 28, 28], 10), ([3, 32, 32], 100)] {
        let model = LeNet5Net::new(input, classes, &d, 1);
        assert_eq!(
            Classifier::trainable_params(&model) as u64,
            lenet::cost(input, classes).params,
            "{input:?}"
        );
    }
    let splits = nas_data::DataConfig::default().load().unwrap();
    let recipe = nas_nn::Recipe {
        batch_size: 64,
        optimizer: nas_nn::OptimizerKind::Sgd,
        learning_rate: 0.05,
        momentum: 0.9,
        weight_decay: 5e-4,
    };
    let out = fit_lenet(&lenet_job(&recipe, &splits, &d, 4, false));
    // Without batch norm, LeNet moves slowly under the cells' SGD recipe on 1,437 images
    // (about 16% after 4 epochs): it runs, and its loss has left the uniform guess's ln 10.
    assert!(
        out.train_loss.is_finite() && out.train_loss < 10f64.ln(),
        "{out:?}"
    );
}

#[test]
fn kept_weights_load_into_a_fresh_network_and_score_as_the_trained_one() {
    use burn::module::Module;
    use burn::store::ModuleRecord;
    use burn::tensor::Bytes;
    let d = device("flex").unwrap();
    let splits = nas_data::DataConfig::default().load().unwrap();
    let recipe = nas_nn::Recipe {
        batch_size: 64,
        optimizer: nas_nn::OptimizerKind::Adam,
        learning_rate: 0.01,
        momentum: 0.9,
        weight_decay: 0.0,
    };
    let out = fit_lenet(&lenet_job(&recipe, &splits, &d, 2, true));
    let bytes = out.weights.clone().unwrap();
    // Another initialization, then the kept record: the trained network again.
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).unwrap();
    let loaded = LeNet5Net::new([1, 8, 8], 10, &d, 99)
        .try_load_record(record)
        .unwrap();
    let (test_acc, _) = nas_nn::assess(&loaded, &splits.test, &d);
    assert_eq!(test_acc, out.test_acc);
    let fresh = LeNet5Net::new([1, 8, 8], 10, &d, 99);
    assert_ne!(nas_nn::assess(&fresh, &splits.test, &d).0, out.test_acc);
    // Not asked, not kept.
    let out = fit_lenet(&lenet_job(&recipe, &splits, &d, 1, false));
    assert!(out.weights.is_none());
}

/// LeNet-5 on the digits for `epochs` from seed 3.
fn lenet_job<'a>(
    recipe: &'a nas_nn::Recipe,
    splits: &'a nas_data::Splits,
    d: &'a burn::tensor::Device,
    epochs: u32,
    keep_weights: bool,
) -> nas_nn::FitJob<'a> {
    nas_nn::FitJob {
        recipe,
        splits,
        epochs,
        data_fraction: 1.0,
        seed: 3,
        device: d,
        keep_weights,
    }
}

fn fit_lenet(job: &nas_nn::FitJob<'_>) -> nas_nn::FitOutcome {
    nas_nn::fit(
        |d| LeNet5Net::new([1, 8, 8], 10, d, 3),
        DIGITS.task,
        job,
        &mut CollectingReporter::default(),
    )
    .unwrap()
}
