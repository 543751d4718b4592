//! Labelled sentences: the embedded sentiment set (JSON lines), CSV files with a `text` and
//! a `label` column, a word tokenizer and a vocabulary built from the training split.
//!
//! # Sentences as inputs
//! A tokenized sentence becomes one row of token ids, stored as an [`Images`] of one
//! channel, one pixel high and `max_words` wide, so the training loop, the seeded splits,
//! fidelities and reports serve text unchanged. Id [`PAD`] (0) fills the row after the
//! last word (a network masks it out), [`UNKNOWN`] (1) stands for a word the training split
//! does not have, and the words of the training split are numbered from 2, most frequent
//! first. Ids are whole numbers stored as `f32`, exact up to 2^24 words.

use super::{DataError, Images, classes_of};
use std::collections::HashMap;
use std::path::Path;

/// The id of the padding after a sentence's last word.
pub const PAD: u32 = 0;
/// The id of a word the vocabulary does not have.
pub const UNKNOWN: u32 = 1;

/// Sentences and their class labels, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentences {
    pub texts: Vec<String>,
    pub labels: Vec<u8>,
    pub classes: usize,
}

impl Sentences {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The sentences at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Sentences {
        Sentences {
            texts: indices.iter().map(|&i| self.texts[i].clone()).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes,
        }
    }

    /// Every sentence as a row of `max_words` token ids (see the module docs).
    pub fn encode(&self, vocabulary: &Vocabulary, max_words: usize) -> Images {
        let mut pixels = Vec::with_capacity(self.len() * max_words);
        for text in &self.texts {
            pixels.extend(vocabulary.encode(text, max_words));
        }
        Images {
            channels: 1,
            height: 1,
            width: max_words,
            pixels,
            labels: self.labels.clone(),
            classes: self.classes,
        }
    }
}

/// The lower-cased words of `text`: runs of letters, digits and inner apostrophes
/// (`don't` is one word; the quotes around `'great'` are not part of it).
pub fn tokenize(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Word ids: [`PAD`], [`UNKNOWN`], then the words of the sentences it was built from, most
/// frequent first (ties in alphabetical order, so the same sentences give the same ids).
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    words: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Vocabulary {
    /// The vocabulary of `texts` (a training split: words seen only in validation or test
    /// sentences stay unknown, as they would be for new data).
    pub fn build<'a>(texts: impl IntoIterator<Item = &'a String>) -> Vocabulary {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for text in texts {
            for word in tokenize(text) {
                *counts.entry(word).or_default() += 1;
            }
        }
        let mut words: Vec<(String, usize)> = counts.into_iter().collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let words: Vec<String> = words.into_iter().map(|(w, _)| w).collect();
        let ids = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32 + 2))
            .collect();
        Vocabulary { words, ids }
    }

    /// Ids in use, padding and unknown included: the rows an embedding table needs.
    pub fn len(&self) -> usize {
        self.words.len() + 2
    }

    /// Never empty: padding and unknown always have ids.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The id of `word` (already lower-cased), or [`UNKNOWN`].
    pub fn id(&self, word: &str) -> u32 {
        self.ids.get(word).copied().unwrap_or(UNKNOWN)
    }

    /// The word of `id`, for display.
    pub fn word(&self, id: u32) -> &str {
        match id {
            PAD => "<pad>",
            UNKNOWN => "<unk>",
            _ => self
                .words
                .get(id as usize - 2)
                .map_or("<unk>", String::as_str),
        }
    }

    /// `text`'s first `max_words` word ids, padded with [`PAD`] to `max_words`.
    pub fn encode(&self, text: &str, max_words: usize) -> Vec<f32> {
        let mut row: Vec<f32> = tokenize(text)
            .iter()
            .take(max_words)
            .map(|w| self.id(w) as f32)
            .collect();
        row.resize(max_words, PAD as f32);
        row
    }
}

/// A label read from a file: a whole number 0-255.
fn label_of(value: &str) -> Result<u8, String> {
    value
        .trim()
        .parse::<u8>()
        .map_err(|_| format!("label {value:?} is not a class index 0-255"))
}

/// Reads sentences from JSON lines, one `{"text": ..., "label": ...}` object a line (other
/// fields ignored, blank lines skipped). `what` names the file in errors.
///
/// # Errors
/// A line that is not such an object (with its line number), no sentences, labels that
/// leave a class without a sentence.
pub fn read_jsonl(content: &str, what: &str) -> Result<Sentences, DataError> {
    let err =
        |line: usize, reason: String| DataError::named(what, format!("line {line}: {reason}"));
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| err(i + 1, format!("not JSON: {e}")))?;
        let text = value
            .get("text")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| err(i + 1, "no string field `text`".into()))?;
        let label = match value.get("label") {
            Some(serde_json::Value::Number(n)) => label_of(&n.to_string()),
            Some(other) => Err(format!("label {other} is not a class index 0-255")),
            None => Err("no field `label`".into()),
        }
        .map_err(|reason| err(i + 1, reason))?;
        texts.push(text.to_string());
        labels.push(label);
    }
    finish(texts, labels, what)
}

/// Reads sentences from a CSV file with a header naming a `text` and a `label` column (in
/// any order; other columns ignored). Fields may be quoted, as spreadsheets write them.
///
/// # Errors
/// A missing file, no `text` or `label` column, a row that cannot be read or has no value
/// in either column, a label that is not a class index (each with its line), no sentences,
/// labels that leave a class without a sentence.
pub fn read_text_csv(path: &Path) -> Result<Sentences, DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::file(path, e.to_string()))?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let err = |line: u64, reason: String| DataError::file(path, format!("line {line}: {reason}"));
    let header = reader.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
            .ok_or_else(|| err(1, format!("no `{name}` column (the header is {header:?})")))
    };
    let (text_col, label_col) = (column("text")?, column("label")?);
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            err(line, e.to_string())
        })?;
        let line = row.position().map_or(0, csv::Position::line);
        let field = |col: usize, name: &str| {
            row.get(col)
                .ok_or_else(|| err(line, format!("{} field(s), no `{name}` value", row.len())))
        };
        let text = field(text_col, "text")?;
        let label = label_of(field(label_col, "label")?).map_err(|reason| err(line, reason))?;
        texts.push(text.to_string());
        labels.push(label);
    }
    finish(texts, labels, &path.display().to_string())
}

fn finish(texts: Vec<String>, labels: Vec<u8>, what: &str) -> Result<Sentences, DataError> {
    if texts.is_empty() {
        return Err(DataError::named(what, "holds no sentences"));
    }
    let classes = classes_of(&labels, what, |i| format!("sentence {}", i + 1))?;
    Ok(Sentences {
        texts,
        labels,
        classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_keep_inner_apostrophes() {
        assert_eq!(
            tokenize("Don't buy it -- 'GREAT' value, 10/10!"),
            vec!["don't", "buy", "it", "great", "value", "10", "10"]
        );
        assert!(tokenize(" ... !").is_empty());
    }

    #[test]
    fn the_vocabulary_numbers_frequent_words_first_and_pads() {
        let texts = vec!["b a".to_string(), "a c".to_string()];
        let v = Vocabulary::build(&texts);
        assert_eq!(v.len(), 5);
        assert_eq!((v.id("a"), v.id("b"), v.id("c")), (2, 3, 4));
        assert_eq!(v.id("zebra"), UNKNOWN);
        assert_eq!(v.encode("A zebra b", 5), vec![2.0, 1.0, 3.0, 0.0, 0.0]);
        assert_eq!(v.encode("a b c a", 2), vec![2.0, 3.0]);
        assert_eq!(v.word(3), "b");
    }

    #[test]
    fn malformed_lines_are_named() {
        let e = read_jsonl(
            "{\"text\": \"ok\", \"label\": 1}\n{\"text\": 3}\n",
            "f.jsonl",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("f.jsonl: line 2") && e.contains("`text`"), "{e}");
        let e = read_jsonl("{\"text\": \"ok\", \"label\": 1.5}", "f").unwrap_err();
        assert!(e.to_string().contains("line 1: label \"1.5\""), "{e}");
        let e = read_jsonl("{\"text\": \"ok\", \"label\": 0}", "f").unwrap_err();
        assert!(e.to_string().contains("two classes"), "{e}");
    }

    #[test]
    fn csv_text_reads_quoted_fields_and_names_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, "id,label,text\n1,1,\"Good, really good\"\n2,0,bad\n").unwrap();
        let s = read_text_csv(&path).unwrap();
        assert_eq!(s.texts, vec!["Good, really good", "bad"]);
        assert_eq!((s.labels.clone(), s.classes), (vec![1, 0], 2));
        std::fs::write(&path, "label,text\n1,good\n0\nx,bad\n").unwrap();
        let e = read_text_csv(&path).unwrap_err().to_string();
        assert!(
            e.contains("s.csv: line 3") && e.contains("no `text` value"),
            "{e}"
        );
        std::fs::write(&path, "label,text\n1,good\nx,bad\n").unwrap();
        let e = read_text_csv(&path).unwrap_err().to_string();
        assert!(e.contains("line 3: label \"x\""), "{e}");
        std::fs::write(&path, "label,words\n1,good\n").unwrap();
        let e = read_text_csv(&path).unwrap_err().to_string();
        assert!(e.contains("line 1: no `text` column"), "{e}");
    }
}
