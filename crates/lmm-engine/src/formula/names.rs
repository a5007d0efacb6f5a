//! Variable names: which characters make a name, and when a name must be written in
//! backticks to parse back.

use std::fmt;

/// True for names that can be written without backquotes: `[A-Za-z_.][A-Za-z0-9_.]*`.
pub(super) fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

pub(super) fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '.'
}

pub(super) fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// Writes a variable name in formula syntax, backquoting it when it is not a plain name.
pub(super) fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    if is_plain_name(name) {
        f.write_str(name)
    } else {
        write!(f, "`{name}`")
    }
}

/// Writes `a:b:c`.
pub(super) fn write_interaction(f: &mut fmt::Formatter<'_>, variables: &[String]) -> fmt::Result {
    for (i, v) in variables.iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write_name(f, v)?;
    }
    Ok(())
}
