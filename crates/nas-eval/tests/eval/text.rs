//! The text task: the recurrent cell's forward pass against one computed by hand in f64,
//! its gradient against finite differences, predictions for empty and unknown sentences,
//! and the `train` evaluator on the sentiment sentences.

use burn::module::Param;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Device, Int, Tensor, TensorData};
use nas_backend_flex as _;
use nas_core::evaluator::CollectingReporter;
use nas_core::registry::PluginConfig;
use nas_core::{Evaluator, EvaluatorConfig, Fidelity, Rng, SearchSpace, SpaceConfig, Trial};
use nas_nn::{NetSpec, NetworkBuilder, Task, device};
use nas_space::RnnCellArch;
use nas_space::nn::{GruNet, LstmNet, RnnCellNet, RnnCellNetwork};
use std::sync::Arc;

fn set(param: &mut Param<Tensor<2>>, values: &[f64], device: &Device) {
    let dims = param.val().dims();
    let values: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    *param = Param::from_tensor(Tensor::from_data(TensorData::new(values, dims), device));
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// Weights of a cell of hidden size 1: per map its gate and candidate weight.
struct OneDimensional {
    embedding: [f64; 4],
    input_map: [f64; 2],
    hidden_map: [f64; 2],
    nodes: Vec<[f64; 2]>,
    classifier: [f64; 2],
    bias: [f64; 2],
}

/// The cell of [`nas_space::rnn_cell`] written out on numbers: the logits of `words`.
fn by_hand(arch: &RnnCellArch, w: &OneDimensional, words: &[usize]) -> [f64; 2] {
    let highway = |prev: f64, c: f64, h: f64| prev + sigmoid(c) * (h - prev);
    let mut h = 0.0;
    let mut sum = 0.0;
    for &word in words {
        let x = w.embedding[word];
        let c = x * w.input_map[0] + h * w.hidden_map[0];
        let cand = (x * w.input_map[1] + h * w.hidden_map[1]).tanh();
        let mut states = vec![highway(h, c, cand)];
        for (node, map) in arch.nodes.iter().zip(&w.nodes) {
            let s = states[node.input];
            states.push(highway(s, s * map[0], node.activation.apply(s * map[1])));
        }
        let ends = arch.loose_ends();
        h = ends.iter().map(|&k| states[k]).sum::<f64>() / ends.len() as f64;
        sum += h;
    }
    let mean = sum / words.len().max(1) as f64;
    [0, 1].map(|k| mean * w.classifier[k] + w.bias[k])
}

fn net_with(arch: &RnnCellArch, w: &OneDimensional, d: &Device) -> RnnCellNet {
    let mut net = RnnCellNet::new(arch, 1, 4, 2, d, 0);
    set(&mut net.text.embedding.weight, &w.embedding, d);
    set(&mut net.input_map.weight, &w.input_map, d);
    set(&mut net.hidden_map.weight, &w.hidden_map, d);
    for (map, values) in net.nodes.iter_mut().zip(&w.nodes) {
        set(&mut map.weight, values, d);
    }
    set(&mut net.text.classifier.weight, &w.classifier, d);
    let bias = net.text.classifier.bias.as_mut().unwrap();
    *bias = Param::from_tensor(Tensor::from_data(
        TensorData::new(w.bias.map(|b| b as f32).to_vec(), [2]),
        d,
    ));
    net
}

fn sentences(rows: &[[f32; 4]], d: &Device) -> Tensor<4> {
    let values: Vec<f32> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(values, [rows.len(), 1, 1, 4]), d)
}

#[test]
fn the_cell_computes_what_its_equations_say() {
    let d = device("flex").unwrap();
    let weights = OneDimensional {
        embedding: [0.0, 0.3, -0.7, 1.1],
        input_map: [0.5, -1.2],
        hidden_map: [0.8, 0.4],
        nodes: vec![[-0.6, 1.5], [0.9, -0.8]],
        classifier: [1.3, -0.9],
        bias: [0.1, -0.2],
    };
    // Two nodes in a chain (one loose end), and both reading node 0 (two loose ends).
    for text in ["sigmoid<0|relu<1", "tanh<0|identity<0"] {
        let arch: RnnCellArch = text.parse().unwrap();
        let net = net_with(&arch, &weights, &d);
        let rows = [[2.0, 3.0, 1.0, 0.0], [3.0, 0.0, 0.0, 0.0]];
        let logits: Vec<f32> = net
            .forward(sentences(&rows, &d))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (r, words) in [vec![2, 3, 1], vec![3]].iter().enumerate() {
            let expected = by_hand(&arch, &weights, words);
            for k in 0..2 {
                let got = logits[r * 2 + k] as f64;
                assert!(
                    (got - expected[k]).abs() < 1e-5,
                    "{text}, sentence {r}, class {k}: {got} against {}",
                    expected[k]
                );
            }
        }
    }
}

/// Cross-entropy of a small cell on a fixed batch, and the parameters' gradients.
fn loss_of(net: &RnnCellNet, x: &Tensor<4>, y: &Tensor<1, Int>, d: &Device) -> Tensor<1> {
    CrossEntropyLossConfig::new()
        .init(d)
        .forward(net.forward(x.clone()), y.clone())
}

fn values(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// One weight matrix of a cell network.
type Pick = fn(&mut RnnCellNet) -> &mut Param<Tensor<2>>;

#[test]
fn the_cells_gradient_matches_finite_differences() {
    let d = device("flex").unwrap().autodiff();
    let arch: RnnCellArch = "tanh<0|sigmoid<1|relu<1|identity<0".parse().unwrap();
    let net = RnnCellNet::new(&arch, 3, 6, 2, &d, 7);
    let x = Tensor::<4>::from_data(
        TensorData::new(
            vec![
                2.0f32, 5.0, 3.0, 0.0, 4.0, 1.0, 0.0, 0.0, 5.0, 5.0, 2.0, 3.0,
            ],
            [3, 1, 1, 4],
        ),
        &d,
    );
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64, 0, 1], [3]), &d);
    let grads = loss_of(&net, &x, &y, &d).backward();
    let picks: [(&str, Pick); 4] = [
        ("hidden map", |n| &mut n.hidden_map.weight),
        ("node 2", |n| &mut n.nodes[1].weight),
        ("node 4", |n| &mut n.nodes[3].weight),
        ("embedding", |n| &mut n.text.embedding.weight),
    ];
    let eps = 1e-2f32;
    for (name, pick) in picks {
        let mut probe = net.clone();
        let analytic = values(pick(&mut probe).grad(&grads).unwrap());
        let base = values(pick(&mut probe).val());
        let dims = pick(&mut probe).val().dims();
        let mut checked = 0;
        for i in (0..base.len()).step_by(base.len().div_ceil(6)) {
            let loss_at = |delta: f32| {
                let mut moved = net.clone();
                let mut v = base.clone();
                v[i] += delta;
                *pick(&mut moved) =
                    Param::from_tensor(Tensor::from_data(TensorData::new(v, dims), &d));
                loss_of(&moved, &x, &y, &d).into_scalar::<f32>() as f64
            };
            let numeric = (loss_at(eps) - loss_at(-eps)) / (2.0 * eps as f64);
            let g = analytic[i] as f64;
            assert!(
                (numeric - g).abs() <= 2e-4 + 0.02 * g.abs(),
                "{name}[{i}]: autodiff {g} against finite differences {numeric}"
            );
            checked += 1;
        }
        assert!(checked >= 3, "{name}");
    }
}

#[test]
fn empty_and_unknown_sentences_get_a_prediction() {
    let d = device("flex").unwrap();
    let arch: RnnCellArch = "tanh<0|relu<1".parse().unwrap();
    // Padding only, then unknown words only, then one known word.
    let x = sentences(&[[0.0; 4], [1.0, 1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]], &d);
    let outputs = [
        RnnCellNet::new(&arch, 4, 5, 2, &d, 1).forward(x.clone()),
        LstmNet::new(4, 5, 2, &d, 1).forward(x.clone()),
        GruNet::new(4, 5, 2, &d, 1).forward(x),
    ];
    for logits in outputs {
        assert_eq!(logits.dims(), [3, 2]);
        let v: Vec<f32> = logits.into_data().try_to_vec::<f32>().unwrap();
        assert!(v.iter().all(|x| x.is_finite()), "{v:?}");
    }
    // A batch of empty sentences alone still runs one step.
    let empty = sentences(&[[0.0; 4]], &d);
    let net = RnnCellNet::new(&arch, 4, 5, 2, &d, 1);
    assert_eq!(net.forward(empty).dims(), [1, 2]);
    // The data side: an empty sentence is all padding, unknown words are id 1.
    let v = nas_data::Vocabulary::build(&["good film".to_string()]);
    assert_eq!(v.encode("", 3), vec![0.0; 3]);
    assert_eq!(v.encode("Qwerty zzz", 3), vec![1.0, 1.0, 0.0]);
}

#[test]
fn built_cells_have_the_counted_parameters() {
    let d = device("flex").unwrap();
    let s = PluginConfig::<dyn SpaceConfig>::from_value(serde_json::json!({"type": "rnn-cell"}))
        .unwrap()
        .config
        .build()
        .unwrap();
    let spec = NetSpec {
        task: Task::text(12, 50, 2),
        width: 8,
        depth: 1,
    };
    let mut rng = Rng::new(5);
    for _ in 0..10 {
        let g = s.sample(&mut rng);
        let arch = RnnCellNetwork.decode(s.as_ref(), &g).unwrap();
        let net = RnnCellNetwork.build(&arch, &spec, &d, 1);
        let cost = NetworkBuilder::cost(&RnnCellNetwork, &arch, &spec);
        assert_eq!(
            net.trainable_params() as u64,
            cost.params,
            "{}",
            s.render(&g)
        );
    }
    // The baselines: embedding, burn's gates, the head.
    let lstm = LstmNet::new(8, 50, 2, &d, 1);
    let frame = 50 * 8 + 8 * 2 + 2;
    let gated = |gates| nas_space::rnn_cell_cost::gated_per_token(gates, 8).params as usize;
    assert_eq!(lstm.trainable_params(), frame + gated(4));
    assert_eq!(
        GruNet::new(8, 50, 2, &d, 1).trainable_params(),
        frame + gated(3)
    );
}

fn evaluator(
    space: &Arc<dyn SearchSpace>,
    data: serde_json::Value,
) -> Result<Arc<dyn Evaluator>, String> {
    let v = serde_json::json!({
        "type": "train", "epochs": 2, "optimizer": "adam", "learning_rate": 0.005,
        "weight_decay": 0.0, "channels": 16, "data": data
    });
    let config = PluginConfig::<dyn EvaluatorConfig>::from_value(v).unwrap();
    config.config.build(space).map_err(|e| e.to_string())
}

fn rnn_space() -> Arc<dyn SearchSpace> {
    PluginConfig::<dyn SpaceConfig>::from_value(serde_json::json!({"type": "rnn-cell"}))
        .unwrap()
        .config
        .build()
        .unwrap()
}

#[test]
fn a_searched_cell_learns_the_sentiment_sentences() {
    let s = rnn_space();
    let e = evaluator(&s, serde_json::json!({"dataset": "sentiment"})).unwrap();
    let trial = Trial {
        id: 0,
        genotype: s
            .parse("tanh<0|relu<1|relu<1|identity<2|sigmoid<2|tanh<5|relu<6|identity<7")
            .unwrap(),
        fidelity: Fidelity::default(),
        seed: 3,
    };
    let mut reports = CollectingReporter::default();
    let m = e.evaluate(&trial, &mut reports).unwrap();
    assert_eq!(reports.reports.len(), 2, "a report per epoch");
    let acc = m.get("valid_acc").unwrap();
    assert!(acc > 60.0, "valid accuracy {acc} after 2 epochs");
    assert!(m.get("test_acc").unwrap() > 60.0);
    assert!(m.get("params_m").unwrap() > 0.0 && m.get("flops_m").unwrap() > 0.0);
    // The same seed gives the same run.
    let again = e
        .evaluate(&trial, &mut CollectingReporter::default())
        .unwrap();
    assert_eq!(again.get("valid_acc"), m.get("valid_acc"));
}

#[test]
fn text_and_image_networks_refuse_the_other_data() {
    let e = evaluator(&rnn_space(), serde_json::json!({"dataset": "digits"})).unwrap_err();
    assert!(
        e.contains("reads sentences") && e.contains("--dataset sentiment"),
        "{e}"
    );
    let mlp = PluginConfig::<dyn SpaceConfig>::from_value(serde_json::json!({"type": "mlp"}))
        .unwrap()
        .config
        .build()
        .unwrap();
    let e = evaluator(&mlp, serde_json::json!({"dataset": "sentiment"})).unwrap_err();
    assert!(e.contains("sentences") && e.contains("rnn-cell"), "{e}");
}

#[test]
fn a_malformed_text_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reviews.csv");
    std::fs::write(&path, "text,label\ngood,1\nbad,0\n\"fine\",one\n").unwrap();
    let e = evaluator(
        &rnn_space(),
        serde_json::json!({"dataset": "text-csv", "csv": path}),
    )
    .unwrap_err();
    assert!(e.contains("reviews.csv: line 4: label \"one\""), "{e}");
}
