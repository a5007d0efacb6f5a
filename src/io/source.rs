//! Where a data set comes from and how to read it, without polars: the source (a file or
//! standard input), its format (by extension or `--format`), the CSV delimiter (detected from
//! the header line or given), the missing-value tokens, and the type rules that decide what a
//! column of text cells really is.

use std::fmt;
use std::path::{Path, PathBuf};

/// A data file, or standard input (`--data -`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// A file.
    Path(PathBuf),
    /// Standard input, read to the end.
    Stdin,
}

impl DataSource {
    /// `-` is standard input, anything else a path.
    pub fn from_arg(arg: &Path) -> DataSource {
        if arg == Path::new("-") {
            DataSource::Stdin
        } else {
            DataSource::Path(arg.to_path_buf())
        }
    }

    /// The path shown in messages.
    pub fn display_path(&self) -> PathBuf {
        match self {
            DataSource::Path(p) => p.clone(),
            DataSource::Stdin => PathBuf::from("(standard input)"),
        }
    }

    /// The extension, lower-cased.
    fn extension(&self) -> Option<String> {
        match self {
            DataSource::Path(p) => p
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase),
            DataSource::Stdin => None,
        }
    }
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.display_path().display())
    }
}

/// A file format polars reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    /// Delimited text (comma, semicolon or tab; detected unless given).
    Csv,
    /// Tab-separated text (`.tsv`, `.tab`).
    Tsv,
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC (Feather v2) file.
    Ipc,
}

impl DataFormat {
    /// `csv`, `tsv`, `parquet`, `ipc`/`arrow`/`feather`.
    pub fn from_name(name: &str) -> Option<DataFormat> {
        match name.to_ascii_lowercase().as_str() {
            "csv" | "txt" => Some(DataFormat::Csv),
            "tsv" | "tab" => Some(DataFormat::Tsv),
            "parquet" | "pq" => Some(DataFormat::Parquet),
            "ipc" | "arrow" | "feather" => Some(DataFormat::Ipc),
            _ => None,
        }
    }

    /// The format of `source`: given, or by extension (CSV otherwise).
    pub fn of(source: &DataSource, given: Option<DataFormat>) -> DataFormat {
        given
            .or_else(|| {
                source
                    .extension()
                    .as_deref()
                    .and_then(DataFormat::from_name)
            })
            .unwrap_or(DataFormat::Csv)
    }
}

/// How to read a data set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The format; `None`: by extension.
    pub format: Option<DataFormat>,
    /// The CSV delimiter; `None`: `\t` for TSV, else detected from the header line.
    pub separator: Option<u8>,
    /// Cell texts that mean "missing", besides the empty cell and `NA` (R's `na.strings`).
    pub na: Vec<String>,
    /// Columns declared categorical (`--factor`): kept as text when they hold text.
    pub text_columns: Vec<String>,
    /// Columns whose text cells among numbers are an error (the formula's columns); `None`:
    /// every column.
    pub checked_columns: Option<Vec<String>>,
}

impl ReadOptions {
    /// The missing-value tokens: the empty cell, `NA`, and the extra ones.
    pub fn null_tokens(&self) -> Vec<String> {
        let mut tokens = vec![String::new(), "NA".to_owned()];
        for t in &self.na {
            if !tokens.contains(t) {
                tokens.push(t.clone());
            }
        }
        tokens
    }

    /// True when a column of numbers with some text cells is an error for `column`.
    pub fn checks(&self, column: &str) -> bool {
        !self.text_columns.iter().any(|c| c == column)
            && self
                .checked_columns
                .as_ref()
                .is_none_or(|cols| cols.iter().any(|c| c == column))
    }
}

/// Parses a `--sep` value: one character, or `tab`/`\t`, `comma`, `semicolon`.
pub fn parse_separator(text: &str) -> Option<u8> {
    match text {
        "tab" | "\\t" | "\t" => Some(b'\t'),
        "comma" => Some(b','),
        "semicolon" => Some(b';'),
        _ if text.len() == 1 && text.is_ascii() && text != "\"" && text != "\n" => {
            Some(text.as_bytes()[0])
        }
        _ => None,
    }
}

/// The delimiter of delimited text: the most frequent of comma, semicolon and tab outside
/// double quotes on the first line (comma when there is none, or on a tie with it).
pub fn detect_separator(bytes: &[u8]) -> u8 {
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(c) = counts.iter_mut().find(|(s, _)| *s == b) {
                c.1 += 1;
            }
        }
    }
    match counts.iter().max_by_key(|c| c.1) {
        // A tie with the comma keeps the comma.
        Some(&(sep, n)) if n > counts[0].1 => sep,
        _ => b',',
    }
}

/// A cell's text as R's `type.convert` reads a number: decimal or scientific notation, `Inf`,
/// `-Inf`, `NaN` (any case), surrounding spaces ignored; with `decimal_comma`, `1,5` is 1.5
/// (R's `read.csv2`).
pub fn parse_number(text: &str, decimal_comma: bool) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let replaced;
    let text = if decimal_comma && text.contains(',') {
        replaced = text.replacen(',', ".", 1);
        replaced.as_str()
    } else {
        text
    };
    // Rust's parser accepts exactly this grammar plus `infinity`, which R accepts too.
    text.parse::<f64>().ok()
}

/// True for an integer literal: optional sign, then decimal digits only (surrounding spaces
/// ignored), which R would read as a whole number.
fn is_integer_literal(text: &str) -> bool {
    let digits = text.trim().trim_start_matches(['+', '-']);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// What a column of text cells (after the missing-value tokens) holds.
#[derive(Debug, Clone, PartialEq)]
pub enum TextColumn {
    /// Every cell is an integer literal within i64: the integers, exact (IDs beyond 2⁵³ would
    /// merge as f64).
    Integers(Vec<Option<i64>>),
    /// Every cell is an integer literal, some beyond i64: kept as text, so that such IDs stay
    /// distinct (they cannot be measurements one would fit as numbers).
    HugeIntegers,
    /// Every cell is a number: the column is numeric.
    Numbers(Vec<Option<f64>>),
    /// Text.
    Text,
    /// Mostly numbers, but this cell (0-based data row, text) is not one.
    NumbersWithText {
        /// 0-based data row of the first text cell.
        row: usize,
        /// Its text.
        text: String,
    },
}

/// Classifies a text column: numbers (all cells), text, or numbers with some text cells (at
/// least as many numbers as text cells: the text is far more likely a missing-value code
/// such as `n/a` or `.` than a category).
pub fn classify_text(cells: &[Option<&str>], decimal_comma: bool) -> TextColumn {
    // Integers first, parsed exactly: one rule for every reader that yields text cells.
    if cells.iter().any(Option::is_some) && cells.iter().flatten().all(|c| is_integer_literal(c)) {
        let integers: Option<Vec<Option<i64>>> = cells
            .iter()
            .map(|c| match c {
                None => Some(None),
                Some(text) => text.trim().parse::<i64>().ok().map(Some),
            })
            .collect();
        return integers.map_or(TextColumn::HugeIntegers, TextColumn::Integers);
    }
    let mut numbers = Vec::with_capacity(cells.len());
    let mut first_text: Option<(usize, &str)> = None;
    let (mut n_numbers, mut n_text) = (0usize, 0usize);
    for (row, cell) in cells.iter().enumerate() {
        match cell {
            None => numbers.push(None),
            Some(text) => match parse_number(text, decimal_comma) {
                Some(v) => {
                    n_numbers += 1;
                    numbers.push(Some(v));
                }
                None => {
                    n_text += 1;
                    first_text.get_or_insert((row, text));
                }
            },
        }
    }
    match first_text {
        None if n_numbers > 0 => TextColumn::Numbers(numbers),
        Some((row, text)) if n_numbers > 0 && n_numbers >= n_text => TextColumn::NumbersWithText {
            row,
            text: text.to_owned(),
        },
        _ => TextColumn::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_detected_outside_quotes() {
        assert_eq!(detect_separator(b"a,b,c\n1,2,3"), b',');
        assert_eq!(detect_separator(b"a;b;c\n1,5;2;3"), b';');
        assert_eq!(detect_separator(b"a\tb\tc\n"), b'\t');
        assert_eq!(detect_separator(b"\"a;x\",b\n"), b',');
        assert_eq!(detect_separator(b"\"a,b\";\"c,d\";e\n"), b';');
        assert_eq!(detect_separator(b"single\n1\n"), b',');
        assert_eq!(detect_separator(b""), b',');
        assert_eq!(parse_separator("tab"), Some(b'\t'));
        assert_eq!(parse_separator("|"), Some(b'|'));
        assert_eq!(parse_separator("ab"), None);
    }

    #[test]
    fn numbers_as_r_reads_them() {
        assert_eq!(parse_number("1.5", false), Some(1.5));
        assert_eq!(parse_number(" -2e3 ", false), Some(-2000.0));
        assert_eq!(parse_number("Inf", false), Some(f64::INFINITY));
        assert_eq!(parse_number("-Inf", false), Some(f64::NEG_INFINITY));
        assert!(parse_number("NaN", false).unwrap().is_nan());
        assert_eq!(parse_number("1,5", true), Some(1.5));
        assert_eq!(parse_number("1,5", false), None);
        assert_eq!(parse_number("n/a", false), None);
        assert_eq!(parse_number("", false), None);
    }

    #[test]
    fn integer_text_stays_exact() {
        let big = "9007199254740993"; // 2^53 + 1, which f64 rounds to 2^53
        let cells = [Some(big), None, Some(" -4 "), Some("+7")];
        assert_eq!(
            classify_text(&cells, false),
            TextColumn::Integers(vec![Some(9_007_199_254_740_993), None, Some(-4), Some(7)])
        );
        let cells = [Some("18446744073709551616"), Some("1")];
        assert_eq!(classify_text(&cells, false), TextColumn::HugeIntegers);
        // One non-integer number makes the column numeric.
        let cells = [Some("1"), Some("2.5")];
        assert_eq!(
            classify_text(&cells, false),
            TextColumn::Numbers(vec![Some(1.0), Some(2.5)])
        );
    }

    #[test]
    fn text_columns_are_classified() {
        let cells = [Some("1"), None, Some("Inf"), Some("2.5")];
        assert_eq!(
            classify_text(&cells, false),
            TextColumn::Numbers(vec![Some(1.0), None, Some(f64::INFINITY), Some(2.5)])
        );
        let cells = [Some("1"), Some("n/a"), Some("3"), Some("?")];
        assert_eq!(
            classify_text(&cells, false),
            TextColumn::NumbersWithText {
                row: 1,
                text: "n/a".into()
            }
        );
        let cells = [Some("I"), Some("II"), Some("3")];
        assert_eq!(classify_text(&cells, false), TextColumn::Text);
        assert_eq!(classify_text(&[None, None], false), TextColumn::Text);
    }
}
