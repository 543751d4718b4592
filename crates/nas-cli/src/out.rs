//! Writing to standard output without panicking.
//!
//! `println!` panics when stdout is a closed pipe (`nas show | head -1`). Commands print
//! with [`outln!`] instead, which returns the write error; `main_with_args` turns a broken
//! pipe into a quiet exit, as `ls | head` does.

use std::fmt;
use std::io::Write;

/// Prints a line to standard output; evaluates to `std::io::Result<()>`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// Writes one line to standard output.
///
/// # Errors
/// The write failed: the reader went away (a broken pipe) or the disk is full.
pub fn line(args: fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_fmt(args)?;
    stdout.write_all(b"\n")
}

/// `true` when the error, or one of its causes, is a write to a closed pipe.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
