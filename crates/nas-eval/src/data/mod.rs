//! Image classification data: IDX and CSV readers, the embedded digits set, MNIST and
//! Fashion-MNIST read from a folder, per-channel normalization and seeded splits.
//!
//! Everything is plain `Vec<f32>`: the training code turns batches into tensors, and this
//! module stays free of burn so the readers test in milliseconds.

mod csv;
mod idx;
mod locate;

pub use csv::read_csv;
pub use idx::{IdxArray, decode_idx, read_idx};
pub use locate::{DATA_DIR_ENV, candidate_dirs, find_dir};

use nas_core::Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const DIGITS_IMAGES: &[u8] = include_bytes!("../../data/digits-images-idx3-ubyte.gz");
const DIGITS_LABELS: &[u8] = include_bytes!("../../data/digits-labels-idx1-ubyte.gz");

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

    /// How many images of each class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// Builds a set from IDX images (`[n, h, w]`) and labels (`[n]`).
    ///
    /// # Errors
    /// Shapes that do not fit each other.
    pub fn from_idx(
        images: IdxArray,
        labels: IdxArray,
        scale: f32,
        name: &str,
    ) -> Result<Images, DataError> {
        if images.dims.len() != 3 {
            return Err(DataError::named(
                name,
                format!("images must be [n, height, width], found {:?}", images.dims),
            ));
        }
        if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
            return Err(DataError::named(
                name,
                format!(
                    "{} images but labels of shape {:?}",
                    images.dims[0], labels.dims
                ),
            ));
        }
        let classes = labels
            .data
            .iter()
            .copied()
            .max()
            .map_or(0, |m| m as usize + 1);
        Ok(Images {
            channels: 1,
            height: images.dims[1],
            width: images.dims[2],
            pixels: images.data.iter().map(|&b| b as f32 / scale).collect(),
            labels: labels.data,
            classes,
        })
    }
}

/// Train, validation and test images. The validation split is the search signal; the
/// test split is only reported.
#[derive(Debug, Clone)]
pub struct Splits {
    pub name: String,
    pub train: Images,
    pub valid: Images,
    pub test: Images,
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
}

impl DataSource {
    pub fn folder_name(self) -> &'static str {
        match self {
            DataSource::Digits => "digits",
            DataSource::Mnist => "mnist",
            DataSource::FashionMnist => "fashion-mnist",
            DataSource::Csv => "csv",
        }
    }
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
    /// A fraction outside `(0, 0.5)`, a CSV source without a file.
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
        if self.dataset == DataSource::Csv && self.csv.is_none() {
            return Err(DataError::named(
                "data",
                "field `csv`: a CSV data set needs its file",
            ));
        }
        Ok(())
    }

    /// Loads and splits the data, normalized with the training split's statistics.
    ///
    /// # Errors
    /// A missing folder or file (saying where it looked), a malformed file.
    pub fn load(&self) -> Result<Splits, DataError> {
        self.check()?;
        let name = self.dataset.folder_name();
        let (pool, test) = match self.dataset {
            DataSource::Digits => {
                let images = decode_idx(DIGITS_IMAGES, "embedded digits images")?;
                let labels = decode_idx(DIGITS_LABELS, "embedded digits labels")?;
                (Images::from_idx(images, labels, 16.0, "digits")?, None)
            }
            DataSource::Mnist | DataSource::FashionMnist => {
                let dir = find_dir(name, self.data_dir.as_deref())?;
                let read = |stem: &str| read_idx(&locate::idx_file(&dir, stem)?);
                let train = Images::from_idx(
                    read("train-images-idx3-ubyte")?,
                    read("train-labels-idx1-ubyte")?,
                    255.0,
                    name,
                )?;
                let test = Images::from_idx(
                    read("t10k-images-idx3-ubyte")?,
                    read("t10k-labels-idx1-ubyte")?,
                    255.0,
                    name,
                )?;
                (train, Some(test))
            }
            DataSource::Csv => {
                let path = self
                    .csv
                    .as_deref()
                    .ok_or_else(|| DataError::named("data", "no CSV file"))?;
                (read_csv(path, self.image_shape)?, None)
            }
        };
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
        let stats = train.channel_stats();
        train.normalize(&stats);
        valid.normalize(&stats);
        test.normalize(&stats);
        Ok(Splits {
            name: name.to_string(),
            train,
            valid,
            test,
        })
    }
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
