//! [`FormulaError`]: a syntax error with the formula and a caret under the position.

use std::fmt;

/// A syntax error in a formula, with the 0-based character position of the problem.
///
/// `Display` shows the message, the formula and a caret under the position:
/// ```text
/// formula syntax error at column 12: expected a variable name after '+'
///   y ~ 1 + x +
///               ^
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FormulaError {
    /// What is wrong, without the position.
    pub message: String,
    /// 0-based character (not byte) index into [`FormulaError::formula`]; may equal its length
    /// when the formula ends too early.
    pub position: usize,
    /// The formula text as given.
    pub formula: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "formula syntax error at column {}: {}\n{}",
            self.position,
            self.message,
            underline(&self.formula, self.position)
        )
    }
}

/// Two lines: the formula indented by two spaces and a caret under character `position`.
/// Control characters (tabs, newlines) are shown as spaces so the caret stays aligned.
pub(crate) fn underline(text: &str, position: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("  {line}\n  {}^", " ".repeat(position))
}

pub(super) fn syntax_error(
    text: &str,
    position: usize,
    message: impl Into<String>,
) -> FormulaError {
    FormulaError {
        message: message.into(),
        position,
        formula: text.to_owned(),
    }
}
