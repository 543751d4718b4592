//! Writing the trade-off report of a 100,000-trial experiment (issue #17: under 5 s), as
//! `nas report` does it: read the SQLite journal, type it by its space, draw the page and
//! write it. The journal is a real random search on the NAS-Bench-201 table, built once;
//! each iteration times the reading and the drawing together, since a user waits for both.

use criterion::{Criterion, criterion_group, criterion_main};
use nas_core::search::Quiet;
use nas_core::{Experiment, ExperimentConfig, storage};
use nas_report::Run;
// The journal is written through the default storage, `sqlite:`.
use nas_builtins as _;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

const TRIALS: u64 = 100_000;

/// How many of the best trials feed the generalization figure: `nas report`'s default.
const TOP: usize = 20;

/// The journal's URL after a `TRIALS`-long random search into `dir`.
fn journal(dir: &Path) -> String {
    let started = Instant::now();
    let mut e = nas_bench::random_on_table(TRIALS, 0).expect("built-in plugins");
    let url = e.storage_in(dir).expect("a storage URL");
    let report = e.run_at(&url, &mut Quiet).expect("the search runs");
    assert_eq!(report.progress.finished, TRIALS);
    eprintln!(
        "journal of {TRIALS} trials written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    url
}

/// What `nas report` reads: the journal typed by its rebuilt space, and its objectives.
fn read(url: &str) -> Run {
    let mut state = storage::read(url).expect("the journal reads");
    let config = ExperimentConfig::from_json(state.config.clone()).expect("its stored config");
    let name = config.name.clone();
    let space = config.space.config.build().expect("its space");
    state.conform(space.as_ref());
    let objectives = match state.objectives.clone().filter(|o| !o.is_empty()) {
        Some(stored) => stored,
        None => Experiment::build(config).expect("it builds").objectives,
    };
    Run {
        name,
        state,
        space,
        objectives,
    }
}

fn report(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = journal(dir.path());
    let page = dir.path().join("report.html");
    let mut group = c.benchmark_group("report");
    // About a second an iteration: ten of them, with the time criterion needs for ten.
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("100k-trials-read-and-write", |b| {
        b.iter(|| {
            let run = read(&url);
            let html = nas_report::html(std::slice::from_ref(&run), TOP).expect("the page");
            std::fs::write(&page, &html).expect("the page is written");
            black_box(html.len())
        })
    });
    group.finish();
    let size = std::fs::metadata(&page).map_or(0, |m| m.len());
    eprintln!("page: {:.1} MB", size as f64 / 1e6);
}

criterion_group!(benches, report);
criterion_main!(benches);
