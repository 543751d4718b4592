//! Properties of the chain-structured CNN space.

use nas_core::registry::PluginConfig;
use nas_core::{Genotype, Rng, SearchSpace, SpaceConfig, Value};
use nas_space::{ChainCnnSpace, ChainCnnSpaceConfig};
use proptest::prelude::*;

fn space(layers: usize) -> ChainCnnSpace {
    ChainCnnSpace::new(ChainCnnSpaceConfig {
        layers,
        ..ChainCnnSpaceConfig::default()
    })
    .unwrap()
}

/// Index of decision `layer i input j` in the genotype.
fn input_decision(s: &ChainCnnSpace, i: usize, j: usize) -> usize {
    let name = format!("layer {i} input {j}");
    s.decisions().iter().position(|d| d.name == name).unwrap()
}

proptest! {
    #[test]
    fn sampled_genotypes_validate_and_round_trip(seed in any::<u64>(), layers in 1usize..9) {
        let s = space(layers);
        prop_assert_eq!(s.decisions().len(), 3 * layers + layers * (layers - 1) / 2);
        let mut rng = Rng::new(seed);
        let g = s.sample(&mut rng);
        prop_assert!(s.validate(&g).is_ok());
        let text = s.render(&g);
        prop_assert_eq!(s.parse(&text).unwrap(), g.clone());
        prop_assert_eq!(s.render(&s.parse(&text).unwrap()), text);
        let m = s.mutate(&g, &mut rng);
        prop_assert!(s.validate(&m).is_ok());
    }

    #[test]
    fn the_previous_layer_alone_is_the_same_as_no_input(seed in any::<u64>(), layers in 2usize..9) {
        let s = space(layers);
        let mut g = s.sample(&mut Rng::new(seed));
        let i = 1 + (seed as usize) % (layers - 1);
        for j in 0..i {
            let k = input_decision(&s, i, j);
            g.0[k] = Value::Index(0);
        }
        let mut with_previous = g.clone();
        with_previous.0[input_decision(&s, i, i - 1)] = Value::Index(1);
        prop_assert_ne!(&g, &with_previous);
        prop_assert_eq!(s.fingerprint(&g), s.fingerprint(&with_previous));
    }

    #[test]
    fn dead_layers_do_not_change_the_fingerprint(seed in any::<u64>(), layers in 3usize..9) {
        let s = space(layers);
        let mut g = s.sample(&mut Rng::new(seed));
        // The last layer reads layer 0 alone: layers 1..last are dead.
        let last = layers - 1;
        for j in 0..last {
            g.0[input_decision(&s, last, j)] = Value::Index(u32::from(j == 0));
        }
        let mut other = g.clone();
        let filters_of_layer_1 = s.decisions().iter().position(|d| d.name == "layer 1 filters").unwrap();
        other.0[filters_of_layer_1] = Value::Index((g.0[filters_of_layer_1].as_index().unwrap() + 1) % 3);
        prop_assert_eq!(s.fingerprint(&g), s.fingerprint(&other));
        // A live layer's change is a different network.
        let mut live = g.clone();
        live.0[0] = Value::Index((g.0[0].as_index().unwrap() + 1) % 3);
        prop_assert_ne!(s.fingerprint(&g), s.fingerprint(&live));
    }
}

#[test]
fn strings_read_as_documented() {
    let s = space(3);
    let g = s.parse("f16k3s1|f32k5s2|f64k1s1<0,1").unwrap();
    let arch = s.decode(&g).unwrap();
    assert_eq!(arch.layers[1].stride, 2);
    assert_eq!(arch.layers[2].inputs, vec![0, 1]);
    assert_eq!(s.render(&g), "f16k3s1|f32k5s2|f64k1s1<0,1");
    // 3 * 3 values and 3 input decisions.
    assert_eq!(g.0.len(), 12);
}

#[test]
fn malformed_strings_say_what_is_wrong() {
    let s = space(3);
    for (input, needle) in [
        ("", "empty"),
        ("f16k3s1|f32k5s2", "2 layers, the space has 3"),
        (
            "f16k3s1|f32k5|f64k1s1",
            "layer 1 `f32k5`: expected `f<filters>",
        ),
        (
            "f16k3s1|f32k5s2|f64kxs1",
            "kernel \"x\" is not a whole number",
        ),
        (
            "f16k3s1|f48k5s2|f64k1s1",
            "layer 1: filters 48 is not one of [16, 32, 64]",
        ),
        (
            "f16k3s1|f32k5s2|f64k1s1<0,2",
            "input 2 is not an earlier layer",
        ),
        ("f16k3s1|f32k5s2|f64k1s1<1,0", "increasing"),
        ("f16k3s1<0|f32k5s2|f64k1s1", "layer 0 reads the image"),
        ("f16k3s1|f32k5s3|f64k1s1", "stride 3 is not one of [1, 2]"),
    ] {
        let e = s.parse(input).unwrap_err().to_string();
        assert!(e.contains(needle), "{input:?}: {e}");
    }
}

#[test]
fn configs_are_checked_and_registered() {
    for (json, needle) in [
        (serde_json::json!({"layers": 0}), "layers"),
        (serde_json::json!({"kernels": [3, 4]}), "kernel 4 is even"),
        (serde_json::json!({"filters": []}), "filters"),
        (serde_json::json!({"strides": [1, 1]}), "repeated"),
    ] {
        let mut v = json.clone();
        v["type"] = "chain-cnn".into();
        let c = PluginConfig::<dyn SpaceConfig>::from_value(v).unwrap();
        let e = c.config.build().unwrap_err().to_string();
        assert!(e.contains(needle), "{json}: {e}");
    }
    let unknown = serde_json::json!({"type": "chain-cnn", "layer": 3});
    assert!(PluginConfig::<dyn SpaceConfig>::from_value(unknown).is_err());
    let ok = serde_json::json!({"type": "chain-cnn", "layers": 4});
    let s = PluginConfig::<dyn SpaceConfig>::from_value(ok)
        .unwrap()
        .config
        .build()
        .unwrap();
    assert_eq!(s.name(), "chain-cnn");
    assert_eq!(s.decisions().len(), 3 * 4 + 6);
    let g: Genotype = s.sample(&mut Rng::new(1));
    assert!(s.validate(&g).is_ok());
}
