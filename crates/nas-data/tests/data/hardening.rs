//! Issue #14, the readers: every bad input is an error that names the file
//! (and line, column or record) and what was expected, found before the search starts;
//! none is a panic inside burn or the kernels, an abort, or a result computed on nothing.

use nas_data::{DataConfig, DataSource, decode_idx, find_dir, read_csv, read_idx};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// IDX bytes: the header for `dims`, then `data`.
fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(data);
    v
}

/// A folder of MNIST-named IDX files: `train` and `t10k` images and labels.
fn mnist_dir(train: (&[u32], &[u8], &[u8]), test: (&[u32], &[u8], &[u8])) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (stem, (dims, images, labels)) in [("train", train), ("t10k", test)] {
        std::fs::write(
            dir.path().join(format!("{stem}-images-idx3-ubyte")),
            idx(dims, images),
        )
        .unwrap();
        std::fs::write(
            dir.path().join(format!("{stem}-labels-idx1-ubyte")),
            idx(&[dims[0]], labels),
        )
        .unwrap();
    }
    dir
}

fn load_mnist(dir: &Path) -> Result<nas_data::Splits, String> {
    DataConfig {
        dataset: DataSource::Mnist,
        data_dir: Some(dir.into()),
        ..DataConfig::default()
    }
    .load()
    .map_err(|e| e.to_string())
}

/// `n` labels cycling through `classes`.
fn cycling(n: usize, classes: u8) -> Vec<u8> {
    (0..n).map(|i| (i % classes as usize) as u8).collect()
}

fn csv_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A CSV of `rows` 2x2 images of two classes.
fn small_csv(rows: usize) -> String {
    let mut s = String::from("label,p0,p1,p2,p3\n");
    for i in 0..rows {
        s.push_str(&format!("{},{},1,2,3\n", i % 2, i % 7));
    }
    s
}

#[test]
fn an_idx_header_with_huge_dimensions_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("huge-idx3-ubyte");
    std::fs::write(&path, idx(&[u32::MAX, u32::MAX, u32::MAX], &[1, 2, 3])).unwrap();
    let e = read_idx(&path).unwrap_err().to_string();
    assert!(
        e.contains("huge-idx3-ubyte") && e.contains("holds 3"),
        "{e}"
    );
    // A header promising more than the file has, without overflow: also an error.
    let e = decode_idx(&idx(&[60_000, 28, 28], &[0; 10]), "short")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("47040000 bytes") && e.contains("holds 10"),
        "{e}"
    );
}

#[test]
fn idx_sets_without_images_or_pixels_are_refused() {
    let dir = mnist_dir(
        (&[0, 28, 28], &[], &[]),
        (&[2, 28, 28], &[0; 1568], &[0, 1]),
    );
    let e = load_mnist(dir.path()).unwrap_err();
    assert!(
        e.contains("train-images-idx3-ubyte") && e.contains("no images"),
        "{e}"
    );
    let dir = mnist_dir((&[4, 0, 0], &[], &[0, 1, 0, 1]), (&[2, 0, 0], &[], &[0, 1]));
    let e = load_mnist(dir.path()).unwrap_err();
    assert!(
        e.contains("train-images-idx3-ubyte") && e.contains("0x0 pixels"),
        "{e}"
    );
}

#[test]
fn test_images_of_another_size_than_training_images_are_refused() {
    let dir = mnist_dir(
        (&[20, 4, 4], &[7; 320], &cycling(20, 2)),
        (&[4, 2, 8], &[7; 64], &cycling(4, 2)),
    );
    let e = load_mnist(dir.path()).unwrap_err();
    assert!(
        e.contains("t10k-images-idx3-ubyte")
            && e.contains("test images are 2x8 but training images are 4x4"),
        "{e}"
    );
    // Same size: loads, and the test set has the training set's classes.
    let dir = mnist_dir(
        (&[20, 4, 4], &[7; 320], &cycling(20, 3)),
        (&[4, 4, 4], &[7; 64], &cycling(4, 2)),
    );
    let s = load_mnist(dir.path()).unwrap();
    assert_eq!((s.train.classes, s.test.classes), (3, 3));
}

#[test]
fn a_stray_label_is_refused_with_its_record_and_the_range_of_the_others() {
    let mut labels = cycling(20, 10);
    labels[13] = 255;
    let dir = mnist_dir(
        (&[20, 4, 4], &[1; 320], &labels),
        (&[4, 4, 4], &[1; 64], &cycling(4, 4)),
    );
    let e = load_mnist(dir.path()).unwrap_err();
    assert!(e.contains("train-labels-idx1-ubyte"), "{e}");
    assert!(
        e.contains("label 255 (record 13)") && e.contains("classes 10-254"),
        "{e}"
    );
    assert!(e.contains("the other labels lie in 0-9"), "{e}");
    // A test label past the training labels: no output of the network stands for it.
    let dir = mnist_dir(
        (&[20, 4, 4], &[1; 320], &cycling(20, 3)),
        (&[4, 4, 4], &[1; 64], &cycling(4, 4)),
    );
    let e = load_mnist(dir.path()).unwrap_err();
    assert!(
        e.contains("t10k-labels-idx1-ubyte")
            && e.contains("record 3: label 3 is past the training labels 0-2"),
        "{e}"
    );
}

#[test]
fn a_csv_too_small_to_split_names_the_empty_split_and_the_fractions() {
    let tmp = tempfile::tempdir().unwrap();
    let one = csv_file(tmp.path(), "one.csv", &small_csv(1));
    // A single row has one class: refused as such.
    let e = read_csv(&one, None).unwrap_err().to_string();
    assert!(e.contains("one.csv") && e.contains("two classes"), "{e}");
    let two = csv_file(tmp.path(), "two.csv", &small_csv(2));
    let config = DataConfig {
        dataset: DataSource::Csv,
        csv: Some(two.clone()),
        ..DataConfig::default()
    };
    let e = config.load().unwrap_err().to_string();
    assert!(e.contains("two.csv"), "{e}");
    assert!(
        e.contains("the validation split is empty")
            && e.contains("2 images split into 2 training, 0 validation and 0 test")
            && e.contains("valid_fraction 0.1"),
        "{e}"
    );
    let enough = csv_file(tmp.path(), "enough.csv", &small_csv(20));
    let config = DataConfig {
        csv: Some(enough),
        ..config
    };
    let s = config.load().unwrap();
    assert_eq!((s.train.len(), s.valid.len(), s.test.len()), (16, 2, 2));
}

#[test]
fn non_finite_pixels_are_refused_with_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["NaN", "inf", "-infinity"] {
        let text = small_csv(4).replace("1,1,1,2,3", &format!("1,1,1,{bad},3"));
        let path = csv_file(tmp.path(), "nan.csv", &text);
        let e = read_csv(&path, None).unwrap_err().to_string();
        assert!(
            e.contains("nan.csv")
                && e.contains("line 3")
                && e.contains("column 4 (`p2`)")
                && e.contains("not a finite number"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn a_second_label_column_is_refused_and_a_byte_order_mark_is_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let text = small_csv(4).replace("label,p0,p1,p2,p3", "label,p0,p1,p2,label");
    let path = csv_file(tmp.path(), "dup.csv", &text);
    let e = read_csv(&path, None).unwrap_err().to_string();
    assert!(
        e.contains("dup.csv")
            && e.contains("line 1")
            && e.contains("column `label` appears twice (columns 1 and 5)")
            && e.contains("`p0`"),
        "{e}"
    );
    let bom = csv_file(tmp.path(), "bom.csv", &format!("\u{feff}{}", small_csv(4)));
    let images = read_csv(&bom, None).unwrap();
    assert_eq!((images.len(), images.height, images.width), (4, 2, 2));
    assert_eq!(images.labels, vec![0, 1, 0, 1]);
}

#[test]
fn csv_files_without_pixels_or_with_a_shape_past_usize_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let path = csv_file(tmp.path(), "labels.csv", "label\n0\n1\n");
    let e = read_csv(&path, None).unwrap_err().to_string();
    assert!(
        e.contains("labels.csv") && e.contains("no pixel columns"),
        "{e}"
    );
    let path = csv_file(tmp.path(), "four.csv", &small_csv(4));
    let e = read_csv(&path, Some([usize::MAX, usize::MAX, 2]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("do not fit the shape"), "{e}");
}

#[test]
fn a_missing_data_set_names_the_real_knobs() {
    let e = find_dir("no-such-set", None).unwrap_err().to_string();
    assert!(
        e.contains("--set evaluator.data.data_dir=") && e.contains("$NAS_DATA_DIR"),
        "{e}"
    );
    assert!(!e.contains("--data-dir"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes, raw or after a plausible header: an error naming the input, or an
    /// array whose payload is what its header says, never a panic.
    #[test]
    fn idx_decoding_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
        dims in proptest::collection::vec(any::<u32>(), 0..5),
        tail in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        for input in [bytes.clone(), idx(&dims, &tail), [&[0x1f, 0x8b][..], &bytes].concat()] {
            match decode_idx(&input, "garbled.idx") {
                Ok(a) => prop_assert_eq!(a.dims.iter().product::<usize>(), a.data.len()),
                Err(e) => prop_assert!(e.to_string().contains("garbled.idx"), "{}", e),
            }
        }
    }

    /// Text made of the pieces CSVs are made of (and stray bytes): an error naming the file,
    /// or images whose sizes agree and whose pixels are finite.
    #[test]
    fn csv_reading_never_panics(
        pieces in proptest::collection::vec(
            prop_oneof![
                Just("label".to_string()), Just(",".to_string()), Just("\n".to_string()),
                Just("nan".to_string()), Just("\u{feff}".to_string()), Just("-1".to_string()),
                Just("255".to_string()), Just("256".to_string()), Just("1e40".to_string()),
                "[0-9]{1,3}", "[a-z ]{0,3}",
            ],
            0..40,
        ),
        raw in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        for bytes in [pieces.concat().into_bytes(), raw.clone()] {
            let path = tmp.path().join("garbled.csv");
            std::fs::write(&path, &bytes).unwrap();
            match read_csv(&path, None) {
                Ok(images) => {
                    prop_assert_eq!(images.pixels.len(), images.len() * images.image_size());
                    prop_assert!(images.pixels.iter().all(|v| v.is_finite()));
                    prop_assert!(images.labels.iter().all(|&l| (l as usize) < images.classes));
                }
                Err(e) => prop_assert!(e.to_string().contains("garbled.csv"), "{}", e),
            }
        }
    }
}
