//! DARTS checkpoints its search phase after every epoch: a phase killed after any epoch
//! resumes from the journal to the same outcome as an uninterrupted run, to the bit; a
//! damaged or foreign state is a clear error.

use nas_core::SearchSpace;
use nas_core::search::SearchError;
use nas_core::testkit::journals::{Blobs, KilledAfter};
use nas_darts::{DartsConfig, DartsOutcome, PHASE_KEY, RelaxedSearch};
use nas_space::Nb201Space;
use std::sync::Arc;

/// Three short epochs on a quarter of the digits.
fn phase(channels: usize) -> RelaxedSearch {
    let config = DartsConfig {
        epochs: 3,
        data_fraction: 0.25,
        channels,
        arch_learning_rate: 3e-3,
        ..DartsConfig::default()
    };
    let space: Arc<dyn SearchSpace> = Arc::new(Nb201Space::new());
    RelaxedSearch::new("darts", &config, space).unwrap()
}

/// Everything but the wall time.
fn same_outcome(a: &DartsOutcome, b: &DartsOutcome, what: &str) {
    assert_eq!(a.alpha, b.alpha, "{what}: alpha");
    assert_eq!(a.genotype, b.genotype, "{what}");
    assert_eq!(a.trajectory, b.trajectory, "{what}");
    assert_eq!(a.cost.weight_steps, b.cost.weight_steps, "{what}");
}

#[test]
fn a_search_phase_killed_after_any_epoch_resumes_to_the_same_outcome() {
    let phase = phase(8);
    let mut whole = Blobs::default();
    let want = phase.run_journaled(7, &mut whole, &mut |_| {}).unwrap();
    println!("search-phase blob: {} bytes", whole.0[PHASE_KEY].len());
    for killed in 1..=3 {
        let mut journal = Blobs::default();
        let err = phase
            .run_journaled(
                7,
                &mut KilledAfter {
                    inner: &mut journal,
                    after: killed,
                    saved: 0,
                },
                &mut |_| {},
            )
            .unwrap_err();
        assert!(matches!(err, SearchError::Journal(_)), "{err}");
        let mut lines = Vec::new();
        let got = phase
            .run_journaled(7, &mut journal, &mut |m| lines.push(m.to_string()))
            .unwrap();
        assert!(lines[0].contains(&format!("resumed the search phase at epoch {killed} of 3")));
        // Only the epochs after the kill ran.
        assert_eq!(lines.len(), 1 + 3 - killed, "{lines:?}");
        same_outcome(&want, &got, &format!("killed after epoch {killed}"));
    }
}

#[test]
fn a_damaged_or_foreign_search_phase_state_is_a_clear_error() {
    let phase = phase(8);
    let mut journal = Blobs::default();
    phase
        .run_journaled(
            7,
            &mut KilledAfter {
                inner: &mut journal,
                after: 1,
                saved: 0,
            },
            &mut |_| {},
        )
        .unwrap_err();
    let good = journal.0[PHASE_KEY].clone();
    let resume = |bytes: Vec<u8>, seed: u64, phase: &RelaxedSearch| {
        let mut j = Blobs::default();
        j.0.insert(PHASE_KEY.to_string(), bytes);
        match phase.run_journaled(seed, &mut j, &mut |_| {}) {
            Err(SearchError::Resume(m)) => {
                assert!(m.contains(PHASE_KEY), "names the blob: {m}");
                m
            }
            Err(e) => panic!("not a resume error: {e}"),
            Ok(_) => panic!("resumed from a bad state"),
        }
    };
    let err = resume(b"not ours".to_vec(), 7, &phase);
    assert!(err.contains("foreign"), "{err}");
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    assert!(resume(flipped, 7, &phase).contains("checksum"));
    // Another seed, another config: the state of another search.
    assert!(resume(good.clone(), 8, &phase).contains("another search"));
    assert!(resume(good.clone(), 7, &self::phase(4)).contains("another search"));
    // The untouched state resumes.
    let mut j = Blobs::default();
    j.0.insert(PHASE_KEY.to_string(), good);
    phase.run_journaled(7, &mut j, &mut |_| {}).unwrap();
}
