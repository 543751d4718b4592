//! Properties of the NAS-Bench-201 space.

use nas_core::{Genotype, Rng, SearchSpace};
use nas_space::Nb201Space;
use nas_space::nb201::SIZE;
use proptest::prelude::*;
use std::collections::HashSet;

fn genotype() -> impl Strategy<Value = Genotype> {
    proptest::array::uniform6(0u32..5).prop_map(Genotype::from_indices)
}

proptest! {
    #[test]
    fn sampled_and_mutated_genotypes_validate(seed in any::<u64>()) {
        let s = Nb201Space::new();
        let mut rng = Rng::new(seed);
        let g = s.sample(&mut rng);
        prop_assert!(s.validate(&g).is_ok());
        let m = s.mutate(&g, &mut rng);
        prop_assert!(s.validate(&m).is_ok());
        let changed = g.0.iter().zip(&m.0).filter(|(a, b)| a != b).count();
        prop_assert_eq!(changed, 1);
    }

    #[test]
    fn parse_inverts_render(g in genotype()) {
        let s = Nb201Space::new();
        prop_assert_eq!(s.parse(&s.render(&g)).unwrap(), g.clone());
        prop_assert_eq!(s.parse(&s.op_code(&g)).unwrap(), g);
    }

    #[test]
    fn neighbors_and_encoding(g in genotype()) {
        let s = Nb201Space::new();
        let n = s.neighbors(&g);
        prop_assert_eq!(n.len(), 24);
        prop_assert!(n.iter().all(|x| s.validate(x).is_ok() && *x != g));
        let e = s.encode(&g);
        prop_assert_eq!(e.len(), 30);
        prop_assert_eq!(e.iter().sum::<f32>(), 6.0);
    }

    #[test]
    fn swapping_the_intermediate_nodes_keeps_the_fingerprint(g in genotype()) {
        let s = Nb201Space::new();
        let o = s.ops(&g).unwrap();
        // Without an edge 1 -> 2 the two intermediate nodes can trade places.
        let swapped = Genotype::from_indices([o[1], o[0], 0, o[3], o[5], o[4]]);
        let without_edge = Genotype::from_indices([o[0], o[1], 0, o[3], o[4], o[5]]);
        prop_assert_eq!(s.fingerprint(&swapped), s.fingerprint(&without_edge));
    }

    #[test]
    fn dead_edges_do_not_change_the_fingerprint(g in genotype(), op in 0u32..5) {
        let s = Nb201Space::new();
        let mut o = s.ops(&g).unwrap();
        // Cut node 1 off from the input: edges out of it are dead, whatever their op.
        o[0] = 0;
        let a = Genotype::from_indices(o);
        o[2] = op;
        o[4] = op;
        let b = Genotype::from_indices(o);
        prop_assert_eq!(s.fingerprint(&a), s.fingerprint(&b));
    }

    #[test]
    fn invalid_genotypes_are_refused(v in proptest::collection::vec(0u32..8, 0..9)) {
        let s = Nb201Space::new();
        let g = Genotype::from_indices(v.clone());
        prop_assert_eq!(s.validate(&g).is_ok(), v.len() == 6 && v.iter().all(|&x| x < 5));
    }
}

/// The rule: remove `none` edges and edges on no input-to-output path, then identify
/// cells that differ only by swapping the two intermediate nodes. It leaves 8,765
/// distinct functions among the 15,625 cells.
#[test]
fn the_space_has_8765_distinct_cells() {
    let s = Nb201Space::new();
    let all: HashSet<_> = (0..SIZE)
        .map(|n| s.fingerprint(&Nb201Space::from_code_number(n)))
        .collect();
    assert_eq!(all.len(), 8_765);
    assert_eq!(s.distinct_functions(), Some(all.len() as u128));
}

#[test]
fn different_functions_get_different_fingerprints() {
    let s = Nb201Space::new();
    let a = s.parse("333132").unwrap();
    let b = s.parse("333133").unwrap();
    assert_ne!(s.fingerprint(&a), s.fingerprint(&b));
    // Every cell whose output is cut off is the same (zero) function.
    let z1 = s.parse("333000").unwrap();
    let z2 = s.parse("000000").unwrap();
    assert_eq!(s.fingerprint(&z1), s.fingerprint(&z2));
}
