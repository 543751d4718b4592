//! Images from a CSV file: a header row, a `label` column (class index) and one numeric
//! column per pixel value.

use super::{DataError, Images, classes_of};
use std::path::Path;

/// Reads a CSV of images. `shape` is `[channels, height, width]`; without it the pixels
/// form one square channel (or a 1-pixel-high row if the count is not a square).
///
/// A UTF-8 byte-order mark before the header is skipped (spreadsheets write one, and it
/// would otherwise hide the `label` column).
///
/// # Errors
/// A missing file, no `label` column, a column name given twice, no pixel column, a row of
/// the wrong length, a value that is not a finite number (with its line and column), a
/// label that is not a class index 0-255, labels that leave a class without an image, a
/// shape that does not fit.
pub fn read_csv(path: &Path, shape: Option<[usize; 3]>) -> Result<Images, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::file(path, e.to_string()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let err = |line: usize, reason: String| DataError::file(path, format!("line {line}: {reason}"));
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split(',').map(str::trim).collect(),
        None => return Err(DataError::file(path, "empty file")),
    };
    check_unique(&header).map_err(|reason| err(1, reason))?;
    let label_col = header
        .iter()
        .position(|h| *h == "label")
        .ok_or_else(|| err(1, "no `label` column".into()))?;
    let n_pixels = header.len() - 1;
    if n_pixels == 0 {
        return Err(err(1, "no pixel columns beside `label`".into()));
    }
    let [channels, height, width] = shape.unwrap_or_else(|| default_shape(n_pixels));
    let fits = channels
        .checked_mul(height)
        .and_then(|n| n.checked_mul(width))
        == Some(n_pixels);
    if !fits {
        return Err(err(
            1,
            format!(
                "{n_pixels} pixel columns do not fit the shape [{channels}, {height}, {width}]"
            ),
        ));
    }
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    // The line of each row, for errors about labels found once all are read.
    let mut row_lines = Vec::new();
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
                let v: f32 = f.trim().parse().map_err(|_| {
                    err(
                        i + 1,
                        format!("column {} (`{}`) = {f:?} is not a number", c + 1, header[c]),
                    )
                })?;
                // NaN and infinity parse as numbers; later they would surface as a loss
                // that "diverged", blamed on training.
                if !v.is_finite() {
                    return Err(err(
                        i + 1,
                        format!(
                            "column {} (`{}`) = {f:?} is not a finite number",
                            c + 1,
                            header[c]
                        ),
                    ));
                }
                pixels.push(v);
            }
        }
        row_lines.push(i + 1);
    }
    if labels.is_empty() {
        return Err(DataError::file(path, "no rows"));
    }
    let classes = classes_of(&labels, &path.display().to_string(), |r| {
        format!("line {}", row_lines[r])
    })?;
    // Scale to [0, 1] by the largest value, as the IDX readers do.
    let max = pixels.iter().copied().fold(0f32, f32::max);
    if max > 0.0 {
        pixels.iter_mut().for_each(|v| *v /= max);
    }
    Ok(Images {
        channels,
        height,
        width,
        pixels,
        labels,
        classes,
    })
}

/// One square channel, or a 1-pixel-high row when `n_pixels` is not a square.
fn default_shape(n_pixels: usize) -> [usize; 3] {
    let side = (n_pixels as f64).sqrt().round() as usize;
    if side.checked_mul(side) == Some(n_pixels) {
        [1, side, side]
    } else {
        [1, 1, n_pixels]
    }
}

/// Refuses a column name that appears twice: a second `label` would be read as pixels.
fn check_unique(header: &[&str]) -> Result<(), String> {
    let mut seen = std::collections::HashMap::with_capacity(header.len());
    for (j, name) in header.iter().enumerate() {
        if let Some(i) = seen.insert(*name, j) {
            return Err(format!(
                "column `{name}` appears twice (columns {} and {}); the columns are {}",
                i + 1,
                j + 1,
                preview(header)
            ));
        }
    }
    Ok(())
}

/// The column names, the middle elided past a dozen (an image has hundreds).
fn preview(header: &[&str]) -> String {
    let quoted = |s: &[&str]| {
        s.iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if header.len() <= 12 {
        quoted(header)
    } else {
        format!(
            "{}, ... ({} more), {}",
            quoted(&header[..6]),
            header.len() - 12,
            quoted(&header[header.len() - 6..])
        )
    }
}
