//! Classification data: IDX and CSV readers, the embedded digits set, MNIST and
//! Fashion-MNIST read from a folder, per-channel normalization and seeded splits; and
//! labelled sentences (the embedded sentiment set, CSV text), tokenized into rows of word
//! ids with a vocabulary of the training split ([`text`]).
//!
//! Everything is plain `Vec<f32>`: the training code (nas-nn) turns batches into tensors,
//! and this crate stays free of burn, so the readers build and test in seconds and a
//! tensor-free plugin (a tabular evaluator on its own data) can use them.

mod csv;
mod idx;
mod locate;
pub mod text;

pub use csv::read_csv;
pub use idx::{IdxArray, decode_idx, read_idx};
pub use locate::{DATA_DIR_ENV, candidate_dirs, find_dir};
pub use text::{Sentences, Vocabulary};

use nas_core::Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const DIGITS_IMAGES: &[u8] = include_bytes!("../data/digits-images-idx3-ubyte.gz");
const DIGITS_LABELS: &[u8] = include_bytes!("../data/digits-labels-idx1-ubyte.gz");
/// Kotzias et al. 2015 (UCI, CC BY 4.0): 3 x 1,000 review sentences, JSON lines, gzip.
const SENTIMENT: &[u8] = include_bytes!("../data/sentiment-sentences.jsonl.gz");

/// A data file or set that cannot be used: which one, and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct DataError {
    pub what: String,
    pub reason: String,
}

impl DataError {
    pub(crate) fn file(path: &Path, reason: impl Into<String>) -> Self {
        DataError {
            what: path.display().to_string(),
            reason: reason.into(),
        }
    }
    pub(crate) fn named(what: &str, reason: impl Into<String>) -> Self {
        DataError {
            what: what.to_string(),
            reason: reason.into(),
        }
    }
}

/// Labelled images, channels first, pixels as `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct Images {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    /// `len() * channels * height * width` values, image after image.
    pub pixels: Vec<f32>,
    pub labels: Vec<u8>,
    pub classes: usize,
}

impl Images {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Values per image.
    pub fn image_size(&self) -> usize {
        self.channels * self.height * self.width
    }

    pub fn image(&self, i: usize) -> &[f32] {
        let n = self.image_size();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The images at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Images {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_size());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        Images {
            pixels,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            ..self.empty_like()
        }
    }

    fn empty_like(&self) -> Images {
        Images {
            channels: self.channels,
            height: self.height,
            width: self.width,
            pixels: Vec::new(),
            labels: Vec::new(),
            classes: self.classes,
        }
    }

    /// Per-channel mean and standard deviation.
    pub fn channel_stats(&self) -> Vec<(f32, f32)> {
        let plane = self.height * self.width;
        (0..self.channels)
            .map(|c| {
                let values = (0..self.len()).flat_map(|i| {
                    let start = i * self.image_size() + c * plane;
                    self.pixels[start..start + plane].iter().copied()
                });
                let (mut n, mut sum, mut sq) = (0f64, 0f64, 0f64);
                for v in values {
                    n += 1.0;
                    sum += v as f64;
                    sq += (v as f64) * (v as f64);
                }
                let mean = sum / n.max(1.0);
                let var = (sq / n.max(1.0) - mean * mean).max(0.0);
                (mean as f32, var.sqrt().max(1e-6) as f32)
            })
            .collect()
    }

    /// Subtracts each channel's mean and divides by its standard deviation.
    pub fn normalize(&mut self, stats: &[(f32, f32)]) {
        let plane = self.height * self.width;
        let size = self.image_size();
        for (k, v) in self.pixels.iter_mut().enumerate() {
            let (mean, std) = stats[(k % size) / plane];
            *v = (*v - mean) / std;
        }
    }

    /// How many images of each class (longer than `classes` if a label is past them).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &l in &self.labels {
            let l = l as usize;
            if l >= counts.len() {
                counts.resize(l + 1, 0);
            }
            counts[l] += 1;
        }
        counts
    }

    /// Builds a set from IDX images (`[n, h, w]`) and labels (`[n]`); `name` stands for
    /// both files in errors.
    ///
    /// # Errors
    /// As [`Images::from_idx_files`].
    pub fn from_idx(
        images: IdxArray,
        labels: IdxArray,
        scale: f32,
        name: &str,
    ) -> Result<Images, DataError> {
        Images::from_idx_files(images, name, labels, name, scale)
    }

    /// Builds a set from IDX images (`[n, h, w]`, read from `images_name`) and labels
    /// (`[n]`, read from `labels_name`), each error naming the file it is about.
    ///
    /// # Errors
    /// Shapes that do not fit each other, no images, images of zero height or width, labels
    /// that leave a class without an image (see [`classes_of`]).
    pub fn from_idx_files(
        images: IdxArray,
        images_name: &str,
        labels: IdxArray,
        labels_name: &str,
        scale: f32,
    ) -> Result<Images, DataError> {
        let [n, height, width] = images.dims[..] else {
            return Err(DataError::named(
                images_name,
                format!("images must be [n, height, width], found {:?}", images.dims),
            ));
        };
        if labels.dims.len() != 1 || labels.dims[0] != n {
            return Err(DataError::named(
                labels_name,
                format!(
                    "labels of shape {:?} for {n} images in {images_name}",
                    labels.dims
                ),
            ));
        }
        if n == 0 {
            return Err(DataError::named(images_name, "holds no images"));
        }
        if height == 0 || width == 0 {
            return Err(DataError::named(
                images_name,
                format!("images of {height}x{width} pixels hold nothing to learn from"),
            ));
        }
        let classes = classes_of(&labels.data, labels_name, |r| format!("record {r}"))?;
        Ok(Images {
            channels: 1,
            height,
            width,
            pixels: images.data.iter().map(|&b| b as f32 / scale).collect(),
            labels: labels.data,
            classes,
        })
    }
}

/// The number of classes of `labels` (the largest label plus one), checked: labels must
/// number the classes `0..K` with at least one image each, and there must be two classes.
///
/// A label far above the rest (a stray 255 among digits) would otherwise make a head of
/// 256 outputs, 246 of them for classes no image has, and nothing would say so. `what`
/// names the file and `locate` turns a label's index into a place in it (`record 7`,
/// `line 9`).
///
/// # Errors
/// Fewer than two classes, or a class below the largest label that no image has: the
/// error names the largest label, where it first occurs, and the range of the others.
pub(crate) fn classes_of(
    labels: &[u8],
    what: &str,
    locate: impl Fn(usize) -> String,
) -> Result<usize, DataError> {
    let Some(&max) = labels.iter().max() else {
        return Err(DataError::named(what, "no labels"));
    };
    let first_max = labels.iter().position(|&l| l == max).unwrap_or(0);
    let mut present = vec![false; max as usize + 1];
    for &l in labels {
        present[l as usize] = true;
    }
    let missing: Vec<usize> = (0..max as usize).filter(|&c| !present[c]).collect();
    let others = labels.iter().copied().filter(|&l| l != max);
    let (lo, hi) = others.fold((u8::MAX, 0u8), |(lo, hi), l| (lo.min(l), hi.max(l)));
    if max == 0 {
        return Err(DataError::named(
            what,
            format!("every label is {max}: a classifier needs images of at least two classes"),
        ));
    }
    if missing.is_empty() {
        return Ok(max as usize + 1);
    }
    let others = if lo > hi {
        "no other label occurs".to_string()
    } else {
        format!("the other labels lie in {lo}-{hi}")
    };
    Err(DataError::named(
        what,
        format!(
            "label {max} ({}) leaves {} without an image ({others}); labels must number \
             the classes 0 to K-1, every class with at least one image",
            locate(first_max),
            describe_classes(&missing)
        ),
    ))
}

/// `class 7` or `classes 10-254` (runs joined by commas, at most a few).
fn describe_classes(classes: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &c in classes {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == c => *end = c,
            _ => runs.push((c, c)),
        }
    }
    let shown: Vec<String> = runs
        .iter()
        .take(4)
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    let more = if runs.len() > 4 { ", ..." } else { "" };
    let noun = if classes.len() == 1 {
        "class"
    } else {
        "classes"
    };
    format!("{noun} {}{more}", shown.join(", "))
}

/// Train, validation and test images. The validation split is the search signal; the
/// test split is only reported.
#[derive(Debug, Clone)]
pub struct Splits {
    pub name: String,
    pub train: Images,
    pub valid: Images,
    pub test: Images,
    /// For text: the training split's vocabulary, whose ids the rows hold.
    pub vocabulary: Option<Vocabulary>,
}

impl Splits {
    /// Rows of word ids rather than images: the size of the embedding table a network
    /// needs (0 for images).
    pub fn vocabulary_size(&self) -> usize {
        self.vocabulary.as_ref().map_or(0, Vocabulary::len)
    }
}

/// Which data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// UCI optical digits, 1,797 8x8 images, embedded in this crate.
    #[default]
    Digits,
    Mnist,
    FashionMnist,
    /// A CSV file with a header, a `label` column and one column per pixel.
    Csv,
    /// 3,000 labelled review sentences (Kotzias et al. 2015), embedded in this crate.
    Sentiment,
    /// A CSV file of sentences: a header with a `text` and a `label` column.
    TextCsv,
}

impl DataSource {
    pub fn folder_name(self) -> &'static str {
        match self {
            DataSource::Digits => "digits",
            DataSource::Mnist => "mnist",
            DataSource::FashionMnist => "fashion-mnist",
            DataSource::Csv => "csv",
            DataSource::Sentiment => "sentiment",
            DataSource::TextCsv => "text-csv",
        }
    }

    /// Sentences rather than images.
    pub fn is_text(self) -> bool {
        matches!(self, DataSource::Sentiment | DataSource::TextCsv)
    }

    /// Read from the file in the `csv` field.
    fn reads_csv(self) -> bool {
        matches!(self, DataSource::Csv | DataSource::TextCsv)
    }
}

/// Words a sentence keeps by default; longer ones are cut (the sentiment set's sentences
/// have 12 words on average, 71 at most).
pub const DEFAULT_MAX_WORDS: usize = 48;

fn default_max_words() -> usize {
    DEFAULT_MAX_WORDS
}

fn is_default_max_words(n: &usize) -> bool {
    *n == DEFAULT_MAX_WORDS
}

fn default_valid_fraction() -> f64 {
    0.1
}

/// The command-line flags of a plugin that trains on a `data: DataConfig` with a
/// `backend` field (the `train` and `zero-cost` evaluators, a one-shot method's supernet):
/// `--dataset` sets `data.dataset`, `--backend` sets `backend`.
pub const TRAINING_KNOBS: [nas_core::registry::Knob; 2] = [
    nas_core::registry::Knob::new("dataset", "data.dataset"),
    nas_core::registry::Knob::new("backend", "backend"),
];

/// Where data comes from and how it is split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    #[serde(default)]
    pub dataset: DataSource,
    /// A folder holding the IDX files (MNIST, Fashion-MNIST). Default: the environment
    /// variable `NAS_DATA_DIR`, then the standard places (see [`candidate_dirs`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// The file, for `dataset = "csv"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<PathBuf>,
    /// `[channels, height, width]` of a CSV's rows; default: one square channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_shape: Option<[usize; 3]>,
    /// Share of the training images held out for validation (the search signal). Sets
    /// without an official test split (digits, CSV) hold out as much again for testing.
    #[serde(default = "default_valid_fraction")]
    pub valid_fraction: f64,
    /// Seed of the split: fixed per experiment so every trial sees the same split.
    #[serde(default)]
    pub split_seed: u64,
    /// Text: the words of a sentence kept (the row length); later words are cut.
    #[serde(
        default = "default_max_words",
        skip_serializing_if = "is_default_max_words"
    )]
    pub max_words: usize,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            dataset: DataSource::Digits,
            data_dir: None,
            csv: None,
            image_shape: None,
            valid_fraction: default_valid_fraction(),
            split_seed: 0,
            max_words: DEFAULT_MAX_WORDS,
        }
    }
}

/// Shuffles `0..n` with `seed` and cuts off `fraction` of it: `(kept, held_out)`.
fn hold_out(n: usize, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    let cut = ((n as f64) * fraction).round() as usize;
    let held = order[..cut].to_vec();
    let mut kept = order[cut..].to_vec();
    kept.sort_unstable();
    let mut held = held;
    held.sort_unstable();
    (kept, held)
}

impl DataConfig {
    /// # Errors
    /// A fraction outside `(0, 0.5)`, a CSV source without a file, an image shape with a
    /// zero.
    pub fn check(&self) -> Result<(), DataError> {
        if !(self.valid_fraction > 0.0 && self.valid_fraction < 0.5) {
            return Err(DataError::named(
                "data",
                format!(
                    "field `valid_fraction`: must be in (0, 0.5), got {}",
                    self.valid_fraction
                ),
            ));
        }
        if self.dataset.reads_csv() && self.csv.is_none() {
            return Err(DataError::named(
                "data",
                "field `csv`: a CSV data set needs its file",
            ));
        }
        if self.max_words == 0 {
            return Err(DataError::named(
                "data",
                "field `max_words`: must be at least 1",
            ));
        }
        if let Some(shape) = self.image_shape.filter(|s| s.contains(&0)) {
            return Err(DataError::named(
                "data",
                format!(
                    "field `image_shape`: {shape:?} has a zero; [channels, height, width] must each be at least 1"
                ),
            ));
        }
        Ok(())
    }

    /// The data set in words, for errors: the CSV file, or the set's name.
    pub fn source(&self) -> String {
        match (&self.dataset, &self.csv) {
            (d, Some(path)) if d.reads_csv() => path.display().to_string(),
            (d, _) => d.folder_name().to_string(),
        }
    }

    /// Loads and splits the data, normalized with the training split's statistics.
    ///
    /// # Errors
    /// A missing folder or file (saying where it looked), a malformed file, a test set
    /// whose images or labels do not match the training set's, a split left empty.
    pub fn load(&self) -> Result<Splits, DataError> {
        self.check()?;
        if self.dataset.is_text() {
            return self.load_text();
        }
        let name = self.dataset.folder_name();
        let (pool, test) = match self.dataset {
            DataSource::Digits => {
                let images = decode_idx(DIGITS_IMAGES, "embedded digits images")?;
                let labels = decode_idx(DIGITS_LABELS, "embedded digits labels")?;
                (Images::from_idx(images, labels, 16.0, "digits")?, None)
            }
            DataSource::Mnist | DataSource::FashionMnist => {
                let dir = find_dir(name, self.data_dir.as_deref())?;
                let read = |stem: &str| -> Result<(Images, [PathBuf; 2]), DataError> {
                    // Each file is read as soon as it is found: a broken images file is
                    // reported before a missing labels file.
                    let images = locate::idx_file(&dir, &format!("{stem}-images-idx3-ubyte"))?;
                    let image_array = read_idx(&images)?;
                    let labels = locate::idx_file(&dir, &format!("{stem}-labels-idx1-ubyte"))?;
                    let set = Images::from_idx_files(
                        image_array,
                        &images.display().to_string(),
                        read_idx(&labels)?,
                        &labels.display().to_string(),
                        255.0,
                    )?;
                    Ok((set, [images, labels]))
                };
                let (train, _) = read("train")?;
                let (mut test, files) = read("t10k")?;
                check_test_fits(&train, &test, &files)?;
                // The test set may lack a class; the network has the training set's.
                test.classes = train.classes;
                (train, Some(test))
            }
            DataSource::Csv => (read_csv(self.csv_path()?, self.image_shape)?, None),
            DataSource::Sentiment | DataSource::TextCsv => {
                return Err(DataError::named(name, "a text data set is not images"));
            }
        };
        let total = pool.len();
        let (rest, test) = match test {
            Some(test) => (pool, test),
            None => {
                let (kept, held) =
                    hold_out(pool.len(), self.valid_fraction, self.split_seed ^ 0x7e57);
                (pool.subset(&kept), pool.subset(&held))
            }
        };
        let (kept, held) = hold_out(rest.len(), self.valid_fraction, self.split_seed);
        let mut train = rest.subset(&kept);
        let mut valid = rest.subset(&held);
        let mut test = test;
        self.check_splits(total, [&train, &valid, &test])?;
        let stats = train.channel_stats();
        train.normalize(&stats);
        valid.normalize(&stats);
        test.normalize(&stats);
        Ok(Splits {
            name: name.to_string(),
            train,
            valid,
            test,
            vocabulary: None,
        })
    }

    fn csv_path(&self) -> Result<&Path, DataError> {
        self.csv
            .as_deref()
            .ok_or_else(|| DataError::named("data", "no CSV file"))
    }

    /// Sentences split as digits are (test, then validation held out), the vocabulary built
    /// from the training split, every sentence a row of `max_words` word ids (no
    /// normalization: the values are ids).
    fn load_text(&self) -> Result<Splits, DataError> {
        let sentences = match self.dataset {
            DataSource::TextCsv => text::read_text_csv(self.csv_path()?)?,
            _ => {
                let what = "embedded sentiment sentences";
                let mut content = String::new();
                std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(SENTIMENT),
                    &mut content,
                )
                .map_err(|e| DataError::named(what, e.to_string()))?;
                text::read_jsonl(&content, what)?
            }
        };
        let total = sentences.len();
        let (rest, test) = hold_out(total, self.valid_fraction, self.split_seed ^ 0x7e57);
        let (test, rest) = (sentences.subset(&test), sentences.subset(&rest));
        let (kept, held) = hold_out(rest.len(), self.valid_fraction, self.split_seed);
        let (train, valid) = (rest.subset(&kept), rest.subset(&held));
        let vocabulary = Vocabulary::build(&train.texts);
        let [train, valid, test] =
            [train, valid, test].map(|s| s.encode(&vocabulary, self.max_words));
        self.check_splits(total, [&train, &valid, &test])?;
        Ok(Splits {
            name: self.dataset.folder_name().to_string(),
            train,
            valid,
            test,
            vocabulary: Some(vocabulary),
        })
    }

    /// Refuses a split without images: an empty validation or test split is scored as
    /// accuracy 0 and loss 0, which looks like a result.
    fn check_splits(&self, total: usize, splits: [&Images; 3]) -> Result<(), DataError> {
        let sizes = splits.map(Images::len);
        let Some(empty) = sizes.iter().position(|&n| n == 0) else {
            return Ok(());
        };
        let split = ["training", "validation", "test"][empty];
        let held_twice = matches!(self.dataset, DataSource::Csv | DataSource::Digits);
        let how = if held_twice || self.dataset.is_text() {
            format!(
                "valid_fraction {} is held out for testing, then again for validation",
                self.valid_fraction
            )
        } else {
            format!(
                "the official test files give the test split; valid_fraction {} of the training images is held out for validation",
                self.valid_fraction
            )
        };
        // The smallest count whose rounded share is one image.
        let needed = (0.5 / self.valid_fraction).ceil() as usize;
        Err(DataError::named(
            &self.source(),
            format!(
                "the {split} split is empty: {total} images split into {} training, {} validation and {} test ({how}); give more images (about {} at least) or a larger `valid_fraction`",
                sizes[0],
                sizes[1],
                sizes[2],
                needed.saturating_mul(2).max(3),
            ),
        ))
    }
}

/// Refuses a test set that does not match its training set: images of another size would
/// be scored by a network built for the training size, and a label past the training
/// classes has no output to be scored against.
fn check_test_fits(train: &Images, test: &Images, files: &[PathBuf; 2]) -> Result<(), DataError> {
    if (test.channels, test.height, test.width) != (train.channels, train.height, train.width) {
        return Err(DataError::file(
            &files[0],
            format!(
                "test images are {}x{} but training images are {}x{}",
                test.height, test.width, train.height, train.width
            ),
        ));
    }
    if let Some(r) = test
        .labels
        .iter()
        .position(|&l| l as usize >= train.classes)
    {
        return Err(DataError::file(
            &files[1],
            format!(
                "record {r}: label {} is past the training labels 0-{}",
                test.labels[r],
                train.classes.saturating_sub(1)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_match_their_checks() {
        let images = decode_idx(DIGITS_IMAGES, "d").unwrap();
        let labels = decode_idx(DIGITS_LABELS, "d").unwrap();
        let d = Images::from_idx(images, labels, 16.0, "digits").unwrap();
        assert_eq!(d.len(), 1797);
        assert_eq!((d.height, d.width, d.classes), (8, 8, 10));
        assert_eq!(
            d.class_counts(),
            vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
        );
    }

    #[test]
    fn splits_are_disjoint_seeded_and_normalized() {
        let s = DataConfig::default().load().unwrap();
        assert_eq!(s.train.len() + s.valid.len() + s.test.len(), 1797);
        assert_eq!(s.test.len(), 180);
        let again = DataConfig::default().load().unwrap();
        assert_eq!(s.valid, again.valid);
        let other = DataConfig {
            split_seed: 1,
            ..DataConfig::default()
        }
        .load()
        .unwrap();
        assert_ne!(s.valid, other.valid);
        let (mean, std) = s.train.channel_stats()[0];
        assert!(
            mean.abs() < 1e-4 && (std - 1.0).abs() < 1e-3,
            "{mean} {std}"
        );
    }

    #[test]
    fn sentiment_sentences_split_into_rows_of_word_ids() {
        let c = DataConfig {
            dataset: DataSource::Sentiment,
            ..DataConfig::default()
        };
        let s = c.load().unwrap();
        assert_eq!(
            (s.train.len(), s.valid.len(), s.test.len()),
            (2430, 270, 300)
        );
        assert_eq!(
            (s.train.channels, s.train.height, s.train.width),
            (1, 1, 48)
        );
        assert_eq!(s.train.classes, 2);
        let vocabulary = s.vocabulary.as_ref().unwrap();
        assert_eq!(s.vocabulary_size(), vocabulary.len());
        // Ids are whole numbers below the vocabulary size, padding only after the words.
        let max = s.train.pixels.iter().fold(0f32, |a, &b| a.max(b));
        assert_eq!(max as usize, vocabulary.len() - 1);
        for i in 0..s.train.len() {
            let row = s.train.image(i);
            let words = row.iter().take_while(|&&v| v != 0.0).count();
            assert!(row[words..].iter().all(|&v| v == 0.0));
            assert!(row.iter().all(|v| v.fract() == 0.0));
        }
        // Validation and test hold words the training split lacks: unknown, id 1.
        assert!(s.test.pixels.contains(&1.0));
        assert!(!s.train.pixels.contains(&1.0));
        assert_eq!(
            DataConfig {
                split_seed: 0,
                ..c.clone()
            }
            .load()
            .unwrap()
            .valid,
            s.valid
        );
    }

    #[test]
    fn bad_configs_name_the_field() {
        let c = DataConfig {
            valid_fraction: 0.7,
            ..DataConfig::default()
        };
        assert!(
            c.load()
                .unwrap_err()
                .to_string()
                .contains("`valid_fraction`")
        );
        let c = DataConfig {
            dataset: DataSource::Csv,
            ..DataConfig::default()
        };
        assert!(c.load().unwrap_err().to_string().contains("`csv`"));
    }
}
