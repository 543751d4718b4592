//! The IDX format of MNIST and its kin: a big-endian header (magic with the element type
//! and the number of dimensions, then each dimension) and a `u8` payload. Files may be
//! gzip-compressed.
//!
//! Only unsigned bytes are read (the element type 0x08), so pixels are finite by
//! construction: a float IDX file is refused by its element type, not read and checked.

use super::DataError;
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// An IDX array of bytes: its dimensions and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Reads an IDX file, gzip-compressed or not.
///
/// # Errors
/// A missing or unreadable file, a bad header, a payload shorter or longer than the header
/// says.
pub fn read_idx(path: &Path) -> Result<IdxArray, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::file(path, e.to_string()))?;
    decode_idx(&bytes, &path.display().to_string())
}

/// Decodes IDX bytes (gzip or raw); `name` is used in errors.
///
/// # Errors
/// As [`read_idx`].
pub fn decode_idx(bytes: &[u8], name: &str) -> Result<IdxArray, DataError> {
    let raw;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|e| DataError::named(name, format!("cannot decompress: {e}")))?;
        raw = out;
        &raw[..]
    } else {
        bytes
    };
    if bytes.len() < 4 {
        return Err(DataError::named(
            name,
            "shorter than an IDX header (4 bytes)",
        ));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(DataError::named(
            name,
            "not an IDX file: the magic number must start with two zero bytes",
        ));
    }
    if bytes[2] != 0x08 {
        return Err(DataError::named(
            name,
            format!(
                "element type 0x{:02x}, only unsigned bytes (0x08) are supported",
                bytes[2]
            ),
        ));
    }
    let n_dims = bytes[3] as usize;
    let header = 4 + 4 * n_dims;
    if n_dims == 0 || bytes.len() < header {
        return Err(DataError::named(
            name,
            format!("truncated header: {n_dims} dimensions need {header} bytes"),
        ));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    let payload = &bytes[header..];
    // Checked: a header of four dimensions near 2^32 promises more than 2^64 bytes.
    let expected = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if expected != Some(payload.len()) {
        let promised = expected.map_or_else(
            || "more bytes than any file can hold".to_string(),
            |n| format!("{n} bytes of data"),
        );
        return Err(DataError::named(
            name,
            format!(
                "the header says {dims:?} ({promised}) but the file holds {} (truncated?)",
                payload.len()
            ),
        ));
    }
    Ok(IdxArray {
        dims,
        data: payload.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            v.extend(d.to_be_bytes());
        }
        v.extend(data);
        v
    }

    #[test]
    fn reads_a_small_array() {
        let a = decode_idx(&idx(&[2, 3], &[1, 2, 3, 4, 5, 6]), "x").unwrap();
        assert_eq!(a.dims, vec![2, 3]);
        assert_eq!(a.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let e = |b: &[u8]| decode_idx(b, "f").unwrap_err().to_string();
        assert!(e(&[0, 0]).contains("shorter than an IDX header"));
        assert!(e(&[1, 0, 8, 1]).contains("not an IDX file"));
        assert!(e(&[0, 0, 0x0d, 1]).contains("element type 0x0d"));
        assert!(e(&[0, 0, 8, 2, 0, 0]).contains("truncated header"));
        assert!(e(&idx(&[2, 3], &[1, 2, 3])).contains("truncated?"));
        assert!(e(&[0x1f, 0x8b, 0, 0]).contains("cannot decompress"));
    }

    #[test]
    fn huge_dimensions_are_an_error_not_an_overflow() {
        // 4 x 2^32-1: the product passes u64; it panicked with "attempt to multiply with
        // overflow" before the multiplication was checked.
        let e = decode_idx(&idx(&[u32::MAX; 4], &[0; 8]), "big.idx")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("big.idx") && e.contains("more bytes than any file can hold"),
            "{e}"
        );
    }
}
