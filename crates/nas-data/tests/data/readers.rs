//! The data readers against the real files in `../shared/data/datasets`.

use nas_data::{DataConfig, DataSource, read_csv, read_idx};
use std::path::PathBuf;

fn shared(name: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/datasets")
        .join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} not present", dir.display());
        None
    }
}

#[test]
fn mnist_and_fashion_mnist_match_their_checks() {
    for (source, name, train_counts_0) in [
        (DataSource::Mnist, "mnist", 5923),
        (DataSource::FashionMnist, "fashion-mnist", 6000),
    ] {
        let Some(dir) = shared(name) else { return };
        let config = DataConfig {
            dataset: source,
            data_dir: Some(dir.clone()),
            ..DataConfig::default()
        };
        let s = config.load().unwrap();
        assert_eq!(s.train.len() + s.valid.len(), 60_000, "{name}");
        assert_eq!(s.valid.len(), 6_000);
        assert_eq!(s.test.len(), 10_000);
        assert_eq!(
            (s.train.height, s.train.width, s.train.classes),
            (28, 28, 10)
        );
        let mut counts = s.train.class_counts();
        for (c, v) in counts.iter_mut().zip(s.valid.class_counts()) {
            *c += v;
        }
        assert_eq!(counts[0], train_counts_0, "{name}");
        // The raw mean over 255 matches checks.json.
        let raw = read_idx(&dir.join("train-images-idx3-ubyte.gz")).unwrap();
        let mean = raw.data.iter().map(|&b| b as f64).sum::<f64>() / raw.data.len() as f64 / 255.0;
        let expected = if name == "mnist" {
            0.1306604762738429
        } else {
            0.2860405969887955
        };
        assert!((mean - expected).abs() < 1e-9, "{name}: {mean}");
    }
}

#[test]
fn the_digits_csv_holds_the_same_images_as_the_idx() {
    let Some(dir) = shared("digits") else { return };
    let csv = read_csv(&dir.join("digits.csv"), None).unwrap();
    let images = read_idx(&dir.join("digits-images-idx3-ubyte")).unwrap();
    assert_eq!((csv.len(), csv.height, csv.width), (1797, 8, 8));
    let from_idx: Vec<f32> = images.data.iter().map(|&b| b as f32 / 16.0).collect();
    assert_eq!(csv.pixels, from_idx);
}

#[test]
fn missing_and_broken_files_say_which_and_what() {
    let tmp = tempfile::tempdir().unwrap();
    let config = DataConfig {
        dataset: DataSource::FashionMnist,
        data_dir: Some(tmp.path().into()),
        ..DataConfig::default()
    };
    let e = config.load().unwrap_err().to_string();
    assert!(
        e.contains("no fashion-mnist files here") && e.contains("train-images-idx3-ubyte"),
        "{e}"
    );

    // A truncated file: a valid header, half the payload.
    let mut bytes = vec![0u8, 0, 8, 3, 0, 0, 0, 10, 0, 0, 0, 28, 0, 0, 0, 28];
    bytes.extend(vec![0u8; 28 * 28 * 5]);
    std::fs::write(tmp.path().join("train-images-idx3-ubyte"), &bytes).unwrap();
    let e = config.load().unwrap_err().to_string();
    assert!(
        e.contains("train-images-idx3-ubyte") && e.contains("truncated?"),
        "{e}"
    );

    let csv = tmp.path().join("x.csv");
    std::fs::write(&csv, "a,b,label\n1,2,3\n1,x,3\n").unwrap();
    let e = read_csv(&csv, None).unwrap_err().to_string();
    assert!(
        e.contains("x.csv") && e.contains("line 3") && e.contains("not a number"),
        "{e}"
    );
    std::fs::write(&csv, "a,b\n1,2\n").unwrap();
    assert!(
        read_csv(&csv, None)
            .unwrap_err()
            .to_string()
            .contains("no `label` column")
    );
}

#[test]
fn a_folder_is_found_from_a_parent_and_the_standard_places_are_listed() {
    let Some(dir) = shared("mnist") else { return };
    let root = dir.parent().unwrap().to_path_buf();
    let found = nas_data::candidate_dirs("mnist");
    assert!(
        found
            .iter()
            .any(|d| d.ends_with("usr/share/datasets/mnist"))
    );
    let explicit = nas_data::find_dir("mnist", Some(&root)).unwrap();
    assert_eq!(explicit, root.join("mnist"));
}
