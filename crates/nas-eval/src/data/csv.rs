//! Images from a CSV file: a header row, a `label` column (class index) and one numeric
//! column per pixel value.

use super::{DataError, Images};
use std::path::Path;

/// Reads a CSV of images. `shape` is `[channels, height, width]`; without it the pixels
/// form one square channel (or a 1-pixel-high row if the count is not a square).
///
/// # Errors
/// A missing file, no `label` column, a row of the wrong length, a value that is not a
/// number, a label that is not a non-negative integer, a shape that does not fit.
pub fn read_csv(path: &Path, shape: Option<[usize; 3]>) -> Result<Images, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::file(path, e.to_string()))?;
    let err = |line: usize, reason: String| DataError::file(path, format!("line {line}: {reason}"));
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split(',').map(str::trim).collect(),
        None => return Err(DataError::file(path, "empty file")),
    };
    let label_col = header
        .iter()
        .position(|h| *h == "label")
        .ok_or_else(|| err(1, "no `label` column".into()))?;
    let n_pixels = header.len() - 1;
    let [channels, height, width] = match shape {
        Some(s) => s,
        None => {
            let side = (n_pixels as f64).sqrt().round() as usize;
            if side * side == n_pixels {
                [1, side, side]
            } else {
                [1, 1, n_pixels]
            }
        }
    };
    if channels * height * width != n_pixels {
        return Err(err(
            1,
            format!(
                "{n_pixels} pixel columns do not fit the shape [{channels}, {height}, {width}]"
            ),
        ));
    }
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != header.len() {
            return Err(err(
                i + 1,
                format!("{} fields, the header has {}", fields.len(), header.len()),
            ));
        }
        for (c, f) in fields.iter().enumerate() {
            if c == label_col {
                let l: u8 = f
                    .trim()
                    .parse()
                    .map_err(|_| err(i + 1, format!("label {f:?} is not a class index 0-255")))?;
                labels.push(l);
            } else {
                let v: f32 = f
                    .trim()
                    .parse()
                    .map_err(|_| err(i + 1, format!("`{}` = {f:?} is not a number", header[c])))?;
                pixels.push(v);
            }
        }
    }
    if labels.is_empty() {
        return Err(DataError::file(path, "no rows"));
    }
    // Scale to [0, 1] by the largest value, as the IDX readers do.
    let max = pixels.iter().copied().fold(0f32, f32::max);
    if max > 0.0 {
        pixels.iter_mut().for_each(|v| *v /= max);
    }
    let classes = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    Ok(Images {
        channels,
        height,
        width,
        pixels,
        labels,
        classes,
    })
}
