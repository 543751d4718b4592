//! Properties of the recurrent-cell space.

use nas_core::registry::PluginConfig;
use nas_core::{Rng, SearchSpace, SpaceConfig, Value};
use nas_space::{RnnCellSpace, RnnCellSpaceConfig};
use proptest::prelude::*;

fn space() -> RnnCellSpace {
    RnnCellSpace::new(RnnCellSpaceConfig::default()).unwrap()
}

proptest! {
    #[test]
    fn parse_reads_render_back(seed in any::<u64>()) {
        let s = space();
        let mut rng = Rng::new(seed);
        let g = s.sample(&mut rng);
        prop_assert!(s.validate(&g).is_ok());
        let text = s.render(&g);
        let back = s.parse(&text).unwrap();
        prop_assert_eq!(&back, &g);
        let arch = s.decode(&g).unwrap();
        prop_assert!(arch.nodes.iter().enumerate().all(|(i, n)| n.input <= i));
        prop_assert!(!arch.loose_ends().is_empty());
        prop_assert!(s.validate(&s.mutate(&g, &mut rng)).is_ok());
        for n in s.neighbors(&g) {
            prop_assert!(s.validate(&n).is_ok());
        }
        let other = s.sample(&mut rng);
        if let Some(child) = s.crossover(&g, &other, &mut rng) {
            prop_assert!(s.validate(&child).is_ok());
        }
        prop_assert_eq!(s.encode(&g).len(), s.encode(&other).len());
    }

    /// Renumbering a node's children (swapping two nodes that read the same node, with
    /// their subtrees) keeps the function and the fingerprint.
    #[test]
    fn isomorphic_cells_share_a_fingerprint(seed in any::<u64>()) {
        let s = space();
        let mut rng = Rng::new(seed);
        let mut g = s.sample(&mut rng);
        // Nodes 2 and 3 both read node 1; nothing reads them, so they are leaves.
        for k in [1usize, 2, 3] {
            g.0[2 * (k - 1)] = Value::Index(if k == 1 { 0 } else { 1 });
        }
        for k in 4..=8usize {
            let input = rng.below(k as u64) as u32;
            g.0[2 * (k - 1)] = Value::Index(if input == 2 || input == 3 { 1 } else { input });
        }
        let mut swapped = g.clone();
        swapped.0.swap(3, 5); // the activations of nodes 2 and 3
        prop_assert_eq!(s.fingerprint(&g), s.fingerprint(&swapped));
        let a = s.decode(&g).unwrap();
        if a.nodes[1].activation != a.nodes[2].activation {
            prop_assert_ne!(&g, &swapped);
        }
        let mut other = g.clone();
        other.0[1] = Value::Index((g.0[1].as_index().unwrap() + 1) % 4);
        prop_assert_ne!(s.fingerprint(&g), s.fingerprint(&other));
    }
}

#[test]
fn strings_read_as_documented() {
    let s = space();
    let text = "tanh<0|relu<1|relu<1|identity<2|sigmoid<2|tanh<5|relu<6|identity<7";
    let g = s.parse(text).unwrap();
    assert_eq!(s.render(&g), text);
    let a = s.decode(&g).unwrap();
    assert_eq!(a.loose_ends(), vec![3, 4, 8]);
    assert_eq!(s.decisions().len(), 16);
    assert_eq!(s.decisions()[14].cardinality(), Some(8));
    // 8! input choices times 4^8 activations.
    assert_eq!(s.size(), Some(40_320 * 65_536));
}

#[test]
fn malformed_strings_say_what_is_wrong() {
    let s = space();
    for (input, needle) in [
        ("tanh<0|relu<1", "2 nodes; the space's cells have 8"),
        (
            "tanh<0|relu<2",
            "node 2: input \"2\" is not an earlier node",
        ),
        ("tanh<0|gelu<1", "unknown activation"),
    ] {
        let e = s.parse(input).unwrap_err().to_string();
        assert!(e.contains(needle), "{input:?}: {e}");
    }
    let narrow = RnnCellSpace::new(RnnCellSpaceConfig {
        nodes: 2,
        activations: vec![nas_space::CellActivation::Tanh],
    })
    .unwrap();
    let e = narrow.parse("tanh<0|relu<1").unwrap_err().to_string();
    assert!(e.contains("node 2: activation relu"), "{e}");
}

#[test]
fn configs_are_checked_and_registered() {
    for (json, needle) in [
        (serde_json::json!({"nodes": 0}), "nodes"),
        (serde_json::json!({"nodes": 25}), "nodes"),
        (serde_json::json!({"activations": []}), "activations"),
        (
            serde_json::json!({"activations": ["tanh", "tanh"]}),
            "repeated",
        ),
    ] {
        let mut v = json.clone();
        v["type"] = "rnn-cell".into();
        let c = PluginConfig::<dyn SpaceConfig>::from_value(v).unwrap();
        let e = c.config.build().unwrap_err().to_string();
        assert!(e.contains(needle), "{json}: {e}");
    }
    let ok = serde_json::json!({"type": "rnn-cell", "nodes": 3});
    let s = PluginConfig::<dyn SpaceConfig>::from_value(ok)
        .unwrap()
        .config
        .build()
        .unwrap();
    assert_eq!((s.name(), s.decisions().len()), ("rnn-cell", 6));
}
