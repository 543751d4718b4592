//! ENAS on the recurrent-cell space: its supernet (one map per edge a cell can have) is
//! trained on the sentiment sentences beside the controller, and the derived cells are
//! cells of the space.

use nas_core::SearchSpace;
use nas_data::{DataConfig, DataSource};
use nas_enas::{EnasConfig, SupernetSearch};
use nas_space::{RnnCellSpace, RnnCellSpaceConfig};
use std::sync::Arc;

#[test]
fn enas_searches_recurrent_cells() {
    let space: Arc<dyn SearchSpace> = Arc::new(
        RnnCellSpace::new(RnnCellSpaceConfig {
            nodes: 3,
            ..RnnCellSpaceConfig::default()
        })
        .unwrap(),
    );
    let config = EnasConfig {
        epochs: 1,
        channels: 4,
        data_fraction: 0.1,
        controller_steps: 5,
        derive_samples: 6,
        derive_images: 64,
        data: DataConfig {
            dataset: DataSource::Sentiment,
            ..DataConfig::default()
        },
        ..EnasConfig::default()
    };
    let phase = SupernetSearch::new(&config, Arc::clone(&space)).unwrap();
    let (outcome, trained) = phase.run(3, &mut |_| {}).unwrap();
    assert!(!outcome.candidates.is_empty());
    for c in &outcome.candidates {
        space.validate(&c.genotype).unwrap();
    }
    // Embedding, node 0's two maps, one map per edge (6 for 3 nodes), the head.
    let vocabulary = phase.data.splits.vocabulary_size();
    let params = vocabulary * 4 + 2 * 4 * 8 + 6 * 4 * 8 + (4 * 2 + 2);
    assert_eq!(trained.supernet.trainable_params(), params);
}
