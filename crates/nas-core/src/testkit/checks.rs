//! The checks, each usable on its own with any driver and strategy maker.

use super::driver::{Driver, Eval, Make};
use crate::rng::Rng;
use crate::space::Genotype;
use crate::strategy::Strategy;

/// Panics with the first proposal where two runs differ.
pub(super) fn assert_same_proposals(expected: &[Genotype], got: &[Genotype], what: &str) {
    if let Some(i) = (0..expected.len().min(got.len())).find(|&i| expected[i] != got[i]) {
        panic!(
            "{what}: proposal #{i} differs: {:?} expected, {:?} got",
            expected[i], got[i]
        );
    }
    assert_eq!(
        expected.len(),
        got.len(),
        "{what}: {} proposals expected, {} got",
        expected.len(),
        got.len()
    );
}

fn checkpoint_text(s: &dyn Strategy, what: &str) -> String {
    let state = s
        .checkpoint()
        .unwrap_or_else(|e| panic!("{what}: checkpoint failed: {e}"));
    serde_json::to_string(&state)
        .unwrap_or_else(|e| panic!("{what}: the checkpoint is not JSON text: {e}"))
}

fn restored(make: Make<'_>, seed: u64, text: &str, what: &str) -> Box<dyn Strategy> {
    let mut s = make(seed);
    let state = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{what}: the checkpoint text does not read back: {e}"));
    s.restore(state)
        .unwrap_or_else(|e| panic!("{what}: restoring its own checkpoint failed: {e}"));
    s
}

/// The same seed gives the same `n` proposals; another seed other ones. Runs copies of
/// `driver` (its space, workers and repeat rule).
pub fn assert_deterministic(driver: &Driver, make: Make<'_>, eval: Eval<'_>, n: usize) {
    let run = |seed| {
        let mut d = driver.clone();
        d.run(&mut *make(seed), eval, n);
        d.proposed
    };
    let a = run(11);
    assert!(!a.is_empty(), "the strategy proposed nothing");
    assert_same_proposals(&a, &run(11), "same seed (11), same proposals");
    assert_ne!(
        a,
        run(12),
        "seeds 11 and 12 gave the same proposals: the strategy ignores its seed"
    );
}

/// Checkpointing after `cut` results (through JSON text, as a journal stores it) and going
/// on in a fresh strategy gives what an uninterrupted run of `total` results gives, and
/// the same final checkpoint.
pub fn assert_resumes_exactly(
    driver: &Driver,
    make: Make<'_>,
    eval: Eval<'_>,
    cut: usize,
    total: usize,
) {
    let what = format!("resumed after {cut} results, {} workers", driver.workers());
    let mut whole = make(5);
    let mut a = driver.clone();
    a.run(&mut *whole, eval, total);

    let mut first = make(5);
    let mut b = driver.clone();
    b.run(&mut *first, eval, cut);
    let text = checkpoint_text(&*first, &what);
    drop(first);
    let mut second = restored(make, 5, &text, &what);
    b.run(&mut *second, eval, total);

    assert_same_proposals(&a.proposed, &b.proposed, &what);
    assert_eq!(
        checkpoint_text(&*whole, &what),
        checkpoint_text(&*second, &what),
        "{what}: the final checkpoints differ"
    );
}

/// At most this many crashes per scenario, so that every scenario ends.
const MAX_CRASHES: usize = 6;

/// A run of `total` results that flushes at random points (a checkpoint and the events so
/// far made durable together, as the journal does) and crashes at random points (losing
/// everything after the last flush, then restoring from it in a fresh strategy, trials in
/// flight at the flush run again) proposes what an uninterrupted run proposes. `scenario`
/// seeds where the flushes and crashes fall.
pub fn assert_survives_crashes(
    driver: &Driver,
    make: Make<'_>,
    eval: Eval<'_>,
    total: usize,
    scenario: u64,
) {
    let mut whole = make(5);
    let mut a = driver.clone();
    a.run(&mut *whole, eval, total);

    let mut chaos = Rng::new(scenario);
    let mut d = driver.clone();
    let mut s = make(5);
    // What the journal holds: the driver's state and the strategy's checkpoint text.
    let mut durable: Option<(Driver, String)> = None;
    let mut crashes = 0;
    let what = |crashes: usize| {
        format!(
            "crash scenario {scenario}, {} workers, crash #{crashes}",
            driver.workers()
        )
    };
    loop {
        if d.told.len() >= total {
            break;
        }
        // The two points where the runner may flush: after asking, after a tell.
        d.refill(&mut *s);
        if chaos.chance(0.3) {
            durable = Some((d.clone(), checkpoint_text(&*s, &what(crashes))));
        }
        if !d.tell_next(&mut *s, eval) {
            break;
        }
        if chaos.chance(0.3) {
            durable = Some((d.clone(), checkpoint_text(&*s, &what(crashes))));
        }
        if crashes < MAX_CRASHES && chaos.chance(0.04) {
            crashes += 1;
            (d, s) = match &durable {
                Some((saved, text)) => (saved.clone(), restored(make, 5, text, &what(crashes))),
                None => (driver.clone(), make(5)),
            };
        }
    }
    assert_same_proposals(&a.proposed, &d.proposed, &what(crashes));
    assert_eq!(
        checkpoint_text(&*whole, "uninterrupted run"),
        checkpoint_text(&*s, &what(crashes)),
        "{}: the final checkpoints differ",
        what(crashes)
    );
}
