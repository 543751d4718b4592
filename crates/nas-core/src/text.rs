//! Echoing user input in messages.

/// The longest piece of user input that a message repeats: a 120 KB architecture string
/// is not echoed in full.
pub const ECHO_LIMIT: usize = 120;

/// `text` cut to [`ECHO_LIMIT`] characters, saying how many were left out.
pub fn shorten(text: &str) -> String {
    match text.char_indices().nth(ECHO_LIMIT) {
        None => text.to_string(),
        Some((cut, _)) => format!(
            "{}... ({} more characters)",
            &text[..cut],
            text[cut..].chars().count()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_input_is_shortened() {
        let long = "é".repeat(120_000);
        let short = shorten(&long);
        assert!(short.chars().count() < 200, "{short}");
        assert!(short.ends_with("(119880 more characters)"), "{short}");
        assert_eq!(shorten("abc"), "abc");
    }
}
