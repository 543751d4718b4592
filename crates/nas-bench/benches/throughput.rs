//! Search throughput on the NAS-Bench-201 table: random-search queries per second with the
//! journal off (the search machinery alone) and on (every event in SQLite).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nas_core::journal::NullJournal;
use nas_core::search::Quiet;
// The journal-on bench writes through the default storage, `sqlite:`.
use nas_builtins as _;
use std::hint::black_box;

fn journal_off(c: &mut Criterion) {
    let trials = 1_000_000u64;
    let mut group = c.benchmark_group("random-search/nb201-table");
    group.throughput(Throughput::Elements(trials));
    group.sample_size(10);
    group.bench_function("journal-off", |b| {
        b.iter(|| {
            let mut e = nas_bench::random_on_table(trials, 0).expect("built-in plugins");
            let report = e
                .run_with(&mut NullJournal, &mut Quiet, None)
                .expect("runs");
            black_box(report.progress.finished)
        })
    });
    group.finish();
}

fn journal_on(c: &mut Criterion) {
    let trials = 100_000u64;
    let mut group = c.benchmark_group("random-search/nb201-table");
    group.throughput(Throughput::Elements(trials));
    group.sample_size(10);
    group.bench_function("journal-on-sqlite", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let mut e = nas_bench::random_on_table(trials, 0).expect("built-in plugins");
            let report = e.run_in(dir.path(), &mut Quiet).expect("runs");
            black_box(report.progress.finished)
        })
    });
    group.finish();
}

criterion_group!(benches, journal_off, journal_on);
criterion_main!(benches);
