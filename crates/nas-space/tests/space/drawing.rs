//! Every space draws its genotypes: graphs whose edges go forward between existing nodes,
//! with the operations the genotype holds.

use nas_core::drawing::to_dot;
use nas_core::registry::{PluginConfig, plugins};
use nas_core::{Rng, SearchSpace, SpaceConfig};
use nas_space::{DartsSpace, Nb201Space};

#[test]
fn every_registered_space_draws_forward_graphs_of_its_samples() {
    let mut rng = Rng::new(7);
    for plugin in plugins::<dyn SpaceConfig>().unwrap() {
        let config = PluginConfig::<dyn SpaceConfig>::default_for(plugin.name).unwrap();
        let space = config.config.build().unwrap();
        for _ in 0..50 {
            let g = space.sample(&mut rng);
            let graphs = space.draw(&g);
            assert!(!graphs.is_empty(), "{} draws nothing", plugin.name);
            for graph in &graphs {
                assert!(graph.is_forward(), "{}: {graph:?}", plugin.name);
                assert!(!graph.edges.is_empty(), "{}: {graph:?}", plugin.name);
                // The output node is reached.
                let last = graph.nodes.len() - 1;
                assert!(graph.edges.iter().any(|e| e.to == last), "{graph:?}");
            }
            let dot = to_dot(plugin.name, &graphs);
            let arrows = graphs.iter().map(|g| g.edges.len()).sum::<usize>();
            assert_eq!(dot.matches(" -> ").count(), arrows);
        }
    }
}

#[test]
fn an_nb201_cell_is_drawn_with_its_ops_and_without_its_none_edges() {
    let space = Nb201Space::new();
    let g = space
        .parse("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|")
        .unwrap();
    let cell = &space.draw(&g)[0];
    let edges: Vec<(usize, usize, &str)> = cell
        .edges
        .iter()
        .map(|e| (e.from, e.to, e.label.as_str()))
        .collect();
    assert_eq!(
        edges,
        [
            (0, 1, "nor_conv_3x3"),
            (1, 2, "skip_connect"),
            (0, 3, "avg_pool_3x3"),
            (2, 3, "nor_conv_1x1")
        ]
    );
}

#[test]
fn a_darts_genotype_is_drawn_as_its_normal_and_reduction_cells() {
    let space = DartsSpace::new();
    let darts_v2 = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";
    let graphs = space.draw(&space.parse(darts_v2).unwrap());
    assert_eq!(graphs.len(), 2);
    assert_eq!(graphs[0].title, "normal cell");
    // Two operations into each of the four nodes, and the four into the output.
    assert_eq!(graphs[0].edges.len(), 12);
    let last = &graphs[0].edges[7];
    assert_eq!(
        (last.from, last.to, last.label.as_str()),
        (2, 5, "dil_conv_3x3")
    );
    let pools = graphs[1]
        .edges
        .iter()
        .filter(|e| e.label == "max_pool_3x3")
        .count();
    assert_eq!(pools, 5);
}
