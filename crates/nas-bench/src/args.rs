//! The `--flag value` options of the benchmark binaries: one parser, one wording of errors.

use std::str::FromStr;

/// One `--flag value` pair of the command line.
#[derive(Debug, Clone, Copy)]
pub struct Flag<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

impl Flag<'_> {
    /// The value as a number of type `T` (whole or not, as `T` is).
    ///
    /// # Errors
    /// A value that does not parse as `T`, naming the flag.
    pub fn number<T: FromStr>(&self) -> Result<T, String> {
        self.value
            .parse()
            .map_err(|_| format!("{}: {:?} is not a valid number", self.name, self.value))
    }

    /// The value as a whole number of at least 1.
    ///
    /// # Errors
    /// A value that is not a whole number, or is 0, naming the flag.
    pub fn positive(&self) -> Result<usize, String> {
        match self.number::<usize>()? {
            0 => Err(format!("{}: must be at least 1", self.name)),
            n => Ok(n),
        }
    }

    /// The value as a comma-separated list, items trimmed.
    pub fn list(&self) -> Vec<String> {
        self.value
            .split(',')
            .map(|s| s.trim().to_string())
            .collect()
    }

    /// The error for a flag the binary does not know.
    pub fn unknown(&self, known: &str) -> String {
        format!("unknown option {}; options: {known}", self.name)
    }
}

/// The `--flag value` pairs of `args` (the command line without the program name).
///
/// # Errors
/// A last flag without a value.
pub fn flags(args: &[String]) -> Result<Vec<Flag<'_>>, String> {
    args.chunks(2)
        .map(|pair| match pair {
            [name, value] => Ok(Flag { name, value }),
            [name] => Err(format!("{name} needs a value")),
            _ => Err("empty option".to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_numbers_and_errors() -> Result<(), String> {
        let args: Vec<String> = ["--seeds", "3", "--out", "x", "--lr", "0.5"]
            .map(String::from)
            .to_vec();
        let f = flags(&args)?;
        assert_eq!(f[0].number::<u64>()?, 3);
        assert_eq!(f[1].value, "x");
        assert_eq!(f[2].number::<f64>()?, 0.5);
        assert!(f[2].number::<u64>().is_err_and(|e| e.contains("--lr")));
        assert_eq!(f[0].positive()?, 3);
        let zero = Flag {
            name: "--steps",
            value: "0",
        };
        assert_eq!(
            zero.positive().err().as_deref(),
            Some("--steps: must be at least 1")
        );
        let odd: Vec<String> = ["--seeds"].map(String::from).to_vec();
        assert_eq!(flags(&odd).err().as_deref(), Some("--seeds needs a value"));
        Ok(())
    }
}
