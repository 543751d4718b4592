//! The framing of a one-shot method's search-phase checkpoint (a journal blob): a 16-byte
//! magic whose last byte is the format version, sections each behind a little-endian
//! `u64` length, and last a `u64` checksum ([`StableHasher`]) of everything before it.
//! Nothing is parsed before the magic and the checksum have been checked, so a damaged or
//! foreign blob is an error that says so, not a panic inside a decoder.

use crate::sgd::{Reader, put_u64};
use nas_core::space::StableHasher;
use std::hash::Hasher;

fn checksum(bytes: &[u8]) -> u64 {
    let mut h = StableHasher::default();
    h.write(bytes);
    h.finish()
}

/// `sections` behind `magic`, with the checksum.
pub fn seal(magic: &[u8; 16], sections: &[&[u8]]) -> Vec<u8> {
    let len: usize = sections.iter().map(|s| s.len() + 8).sum();
    let mut out = Vec::with_capacity(magic.len() + len + 8);
    out.extend_from_slice(magic);
    for section in sections {
        put_u64(&mut out, section.len() as u64);
        out.extend_from_slice(section);
    }
    let sum = checksum(&out);
    put_u64(&mut out, sum);
    out
}

/// The `N` sections of a blob [`seal`] wrote with `magic`; `what` names the format in
/// errors ("an ENAS search-phase state").
///
/// # Errors
/// Another magic ("foreign data"), another format version (both named), a checksum that
/// does not match ("damaged"), sections cut short or bytes after them; each message reads
/// after the blob's name ("... is damaged: ...").
pub fn open<'a, const N: usize>(
    magic: &[u8; 16],
    what: &str,
    bytes: &'a [u8],
) -> Result<[&'a [u8]; N], String> {
    let version = magic.len() - 1;
    if bytes.len() < magic.len() + 8 || !bytes.starts_with(&magic[..version]) {
        return Err(format!("is not {what} (foreign data)"));
    }
    if bytes[version] != magic[version] {
        return Err(format!(
            "has format version {}, this build reads {}",
            char::from(bytes[version]),
            char::from(magic[version])
        ));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    let mut stored = [0u8; 8];
    stored.copy_from_slice(sum);
    if checksum(body) != u64::from_le_bytes(stored) {
        return Err("is damaged: its checksum does not match (cut short or overwritten)".into());
    }
    let mut r = Reader {
        bytes: body,
        at: magic.len(),
    };
    let mut sections = [&body[..0]; N];
    for section in &mut sections {
        *section = r.section()?;
    }
    if r.at != body.len() {
        return Err(format!(
            "has {} bytes after its sections",
            body.len() - r.at
        ));
    }
    Ok(sections)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests fail loudly by design.

    use super::*;

    const MAGIC: &[u8; 16] = b"nas-test-blob/01";

    #[test]
    fn sections_round_trip_and_damage_is_named() {
        let blob = seal(MAGIC, &[b"header", b"", b"weights"]);
        let [a, b, c] = open::<3>(MAGIC, "a test blob", &blob).unwrap();
        assert_eq!((a, b, c), (&b"header"[..], &b""[..], &b"weights"[..]));
        let mut damaged = blob.clone();
        damaged[20] ^= 1;
        let e = open::<3>(MAGIC, "a test blob", &damaged).unwrap_err();
        assert!(e.contains("damaged"), "{e}");
        let e = open::<3>(b"nas-test-blob/02", "a test blob", &blob).unwrap_err();
        assert!(e.contains("format version 1, this build reads 2"), "{e}");
        let e = open::<3>(MAGIC, "a test blob", b"{\"json\": true} and more bytes").unwrap_err();
        assert!(e.contains("not a test blob (foreign data)"), "{e}");
        let e = open::<2>(MAGIC, "a test blob", &blob).unwrap_err();
        assert!(e.contains("bytes after its sections"), "{e}");
        assert!(open::<4>(MAGIC, "a test blob", &blob).is_err());
    }
}
