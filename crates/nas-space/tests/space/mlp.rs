//! Properties of the MLP space.

use nas_core::registry::PluginConfig;
use nas_core::{Rng, SearchSpace, SpaceConfig, Value};
use nas_space::{MlpSpace, MlpSpaceConfig};
use proptest::prelude::*;

fn space() -> MlpSpace {
    MlpSpace::new(MlpSpaceConfig::default()).unwrap()
}

proptest! {
    #[test]
    fn parse_reads_render_back_to_the_canonical_genotype(seed in any::<u64>()) {
        let s = space();
        let mut rng = Rng::new(seed);
        let g = s.sample(&mut rng);
        prop_assert!(s.validate(&g).is_ok());
        let text = s.render(&g);
        let canonical = s.parse(&text).unwrap();
        prop_assert_eq!(s.render(&canonical), text.clone());
        prop_assert_eq!(s.fingerprint(&canonical), s.fingerprint(&g));
        prop_assert_eq!(s.decode(&canonical).unwrap(), s.decode(&g).unwrap());
        // Only inert widths may differ between a genotype and its canonical form.
        let depth = match g.0[0] { Value::Int(d) => d as usize, _ => unreachable!() };
        for (k, (a, b)) in g.0.iter().zip(&canonical.0).enumerate() {
            let inert = (1 + depth..=4).contains(&k);
            prop_assert!(inert || a == b, "decision {} changed", k);
        }
        prop_assert!(s.validate(&s.mutate(&g, &mut rng)).is_ok());
    }

    #[test]
    fn inert_widths_do_not_change_the_fingerprint(seed in any::<u64>(), w in 0u32..4) {
        let s = space();
        let mut g = s.sample(&mut Rng::new(seed));
        g.0[0] = Value::Int(2);
        let mut inert = g.clone();
        inert.0[3] = Value::Index(w); // layer 2's width: beyond depth 2
        inert.0[4] = Value::Index(3 - w);
        prop_assert_eq!(s.fingerprint(&g), s.fingerprint(&inert));
        let mut live = g.clone();
        live.0[2] = Value::Index((g.0[2].as_index().unwrap() + 1) % 4); // layer 1's width
        prop_assert_ne!(s.fingerprint(&g), s.fingerprint(&live));
    }
}

#[test]
fn strings_read_as_documented() {
    let s = space();
    let g = s.parse("64-32:tanh:0.1").unwrap();
    let a = s.decode(&g).unwrap();
    assert_eq!(a.widths, vec![64, 32]);
    assert_eq!(a.activation.name(), "tanh");
    assert_eq!(a.dropout, 0.1);
    assert_eq!(s.render(&g), "64-32:tanh:0.1");
    assert_eq!(s.decisions().len(), 1 + 4 + 2);
}

#[test]
fn malformed_strings_say_what_is_wrong() {
    let s = space();
    for (input, needle) in [
        ("64-32:tanh", "widths:activation:dropout"),
        ("64-48:tanh:0.1", "layer 1: width 48 is not one of"),
        (
            "16-16-16-16-16:relu:0",
            "5 hidden layers; the space has 1..=4",
        ),
        ("16:swish:0", "unknown activation"),
        ("16:relu:0.3", "dropout 0.3 is not one of"),
    ] {
        let e = s.parse(input).unwrap_err().to_string();
        assert!(e.contains(needle), "{input:?}: {e}");
    }
    let narrow = MlpSpace::new(MlpSpaceConfig {
        activations: vec![nas_space::Activation::Relu],
        ..MlpSpaceConfig::default()
    })
    .unwrap();
    let e = narrow.parse("16:gelu:0").unwrap_err().to_string();
    assert!(e.contains("activation gelu"), "{e}");
}

#[test]
fn configs_are_checked_and_registered() {
    for (json, needle) in [
        (serde_json::json!({"max_layers": 0}), "max_layers"),
        (serde_json::json!({"dropouts": [1.0]}), "dropouts"),
        (serde_json::json!({"widths": [8, 8]}), "repeated"),
        (serde_json::json!({"activations": []}), "activations"),
    ] {
        let mut v = json.clone();
        v["type"] = "mlp".into();
        let c = PluginConfig::<dyn SpaceConfig>::from_value(v).unwrap();
        let e = c.config.build().unwrap_err().to_string();
        assert!(e.contains(needle), "{json}: {e}");
    }
    let bad = serde_json::json!({"type": "mlp", "activations": ["swish"]});
    assert!(PluginConfig::<dyn SpaceConfig>::from_value(bad).is_err());
    let ok = serde_json::json!({"type": "mlp", "max_layers": 2, "activations": ["relu", "gelu"]});
    let s = PluginConfig::<dyn SpaceConfig>::from_value(ok)
        .unwrap()
        .config
        .build()
        .unwrap();
    assert_eq!(s.name(), "mlp");
    assert_eq!(s.decisions().len(), 1 + 2 + 2);
}
