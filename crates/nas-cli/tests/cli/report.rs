//! `nas report` (issue #17): the page of a finished tabular search and of one with real
//! training, opened in headless Chromium (Debian's `chromium`, which `.ci/run` installs):
//! it loads without console errors, and in the DOM it built every plot has its series
//! with non-empty paths.

use super::{TABLE, assert_clean_failure, nas, text};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's Chromium, or `None` outside CI (where these checks then skip, saying so).
fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from("/usr/bin/chromium");
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but /usr/bin/chromium is missing: .ci/run installs Debian's chromium"
    );
    eprintln!("no /usr/bin/chromium: the browser checks skip");
    None
}

/// Opens `page` headless: the DOM after loading, and what the browser logged. Flags as
/// the machine's notes give them: no sandbox as root, no GPU, no background networking
/// (this machine has no network), a fresh profile.
fn open_in_chromium(chromium: &Path, page: &Path, screenshot: &Path) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let run = |extra: &[String]| {
        let o = Command::new(chromium)
            .args(flags)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&url)
            .output()
            .unwrap();
        assert!(o.status.success(), "chromium: {}", text(&o).1);
        text(&o)
    };
    let (dom, log) = run(&["--dump-dom".to_string()]);
    let (_, shot_log) = run(&[
        format!("--screenshot={}", screenshot.display()),
        "--window-size=1400,4000".to_string(),
    ]);
    (dom, format!("{log}{shot_log}"))
}

/// The `points` of the polylines inside the figure `id` of `dom`.
fn series<'a>(dom: &'a str, id: &str) -> Vec<&'a str> {
    let start = dom
        .find(&format!("<figure id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no figure {id} in the DOM"));
    let end = start + dom[start..].find("</figure>").unwrap();
    dom[start..end]
        .split("<polyline")
        .skip(1)
        .filter_map(|p| {
            let at = p.find("points=\"")? + 8;
            let points = &p[at..at + p[at..].find('"')?];
            (!points.trim().is_empty()).then_some(points)
        })
        .collect()
}

fn report_of(dir: &Path, name: &str) -> PathBuf {
    let d = dir.to_str().unwrap();
    let o = nas(&["report", name, "--dir", d]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let page = PathBuf::from(out.trim());
    assert_eq!(page, dir.join(format!("{name}-report.html")));
    page
}

fn check_in_browser(page: &Path, ids: &[&str]) {
    let Some(chromium) = chromium() else { return };
    let shot = page.with_extension("png");
    let (dom, log) = open_in_chromium(&chromium, page, &shot);
    for id in ids {
        assert!(!series(&dom, id).is_empty(), "{id}: no series in the DOM");
    }
    let errors: Vec<&str> = log
        .lines()
        // Chromium logs what a page writes to its console as `...:INFO:CONSOLE:1] "..."`.
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot"
    );
}

#[test]
fn the_report_of_a_tabular_search_opens_in_a_browser_with_every_series() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&[
        &[
            "search",
            "--name",
            "two",
            "--trials",
            "60",
            "--dir",
            d,
            "--no-progress",
        ][..],
        &["--strategy", "nsga2", "--evaluator", "nb201-table"],
        &["--objective", "valid_acc", "--objective", "params_m"],
    ]
    .concat());
    assert!(o.status.success(), "{}", text(&o).1);
    let page = report_of(dir.path(), "two");
    check_in_browser(
        &page,
        &[
            "anytime-trials-0",
            "anytime-seconds-0",
            "anytime-flops-0",
            "pareto-params_m-0",
            "pareto-flops_m-0",
            "generalization-0",
            "transfer-0",
            "architecture-0-0",
        ],
    );
    // Two experiments side by side.
    let o = nas(&[
        &[
            "search",
            "--name",
            "rs",
            "--trials",
            "30",
            "--dir",
            d,
            "--no-progress",
        ][..],
        &TABLE,
    ]
    .concat());
    assert!(o.status.success(), "{}", text(&o).1);
    let o = nas(&["report", "two", "rs", "--dir", d, "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["experiments"], serde_json::json!(["two", "rs"]));
    let page = std::fs::read_to_string(json["report"].as_str().unwrap()).unwrap();
    assert!(page.contains("<figure id=\"compare-anytime-trials\">"));
    // Both runs beside the published searches.
    let table = &page[page.find("<table id=\"cost-result\">").unwrap()..];
    for row in [
        "<b>two</b> (nsga2)",
        "<b>rs</b> (random)",
        "AmoebaNet-A",
        "REINFORCE",
    ] {
        assert!(table.contains(row), "{row} missing");
    }
    // An experiment that is not there is one clear line.
    assert_clean_failure(&nas(&["report", "nothing", "--dir", d]), "nothing");
}

#[test]
fn the_report_of_a_search_with_real_training_opens_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = nas(&[
        "search",
        "--name",
        "trained",
        "--trials",
        "3",
        "--dir",
        d,
        "--no-progress",
        "--strategy",
        "random",
        "--evaluator",
        "train",
        "--set",
        "evaluator.epochs=1",
        "--set",
        "evaluator.data_fraction=0.25",
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let page = report_of(dir.path(), "trained");
    check_in_browser(
        &page,
        &[
            "anytime-trials-0",
            "anytime-seconds-0",
            "anytime-flops-0",
            "pareto-params_m-0",
            "generalization-0",
            "architecture-0-0",
        ],
    );
}

/// Reports made while a search runs (issue #17): each succeeds with a page of the trials
/// so far, and the search is not disturbed, since `nas report` only reads the journal:
/// its trials are exactly those of the same search run undisturbed to the end.
#[test]
fn reports_made_while_a_search_runs_leave_it_undisturbed() {
    use std::time::{Duration, Instant};
    const TRIALS: i64 = 150;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let trials = TRIALS.to_string();
    let common = [
        &[
            "--trials",
            &trials,
            "--seed",
            "7",
            "--dir",
            d,
            "--no-progress",
        ][..],
        &TABLE,
    ]
    .concat();
    // 20 ms a trial: about 3 s of search, time for several reports.
    let mut search = Command::new(env!("CARGO_BIN_EXE_nas"))
        .args(
            [
                &[
                    "search",
                    "--name",
                    "live",
                    "--set",
                    "evaluator.wall_delay_ms=20",
                ][..],
                &common,
            ]
            .concat(),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let journal = dir.path().join("live.sqlite");
    let started = Instant::now();
    while super::finished_count(&journal) < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the search never got going"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // How many trials the journal held after each report made during the search.
    let mut during = Vec::new();
    while search.try_wait().unwrap().is_none() {
        let page = dir.path().join(format!("live-{}.html", during.len()));
        let o = nas(&[
            "report",
            "live",
            "--dir",
            d,
            "--out",
            page.to_str().unwrap(),
        ]);
        assert!(
            o.status.success(),
            "a report during the search: {}",
            text(&o).1
        );
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{page:?}");
        assert!(
            html.contains("<figure id=\"anytime-trials-0\">"),
            "{page:?}"
        );
        during.push(super::finished_count(&journal));
    }
    let search = search.wait_with_output().unwrap();
    assert!(search.status.success(), "{}", text(&search).1);
    let mid_search = during.iter().filter(|&&n| n < TRIALS).count();
    assert!(
        mid_search >= 2,
        "reports made while trials were still coming: {during:?}"
    );

    let reference = nas(&[&["search", "--name", "reference"][..], &common].concat());
    assert!(reference.status.success(), "{}", text(&reference).1);
    let live = super::shown(d, "live");
    assert_eq!(live.len(), TRIALS as usize);
    assert_eq!(
        live,
        super::shown(d, "reference"),
        "the same trials as a search nobody read"
    );
}
