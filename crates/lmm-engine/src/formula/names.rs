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

/// True for the label of a call, as the parser writes it: `log(x)`, `poly(Days, 2)`.
fn is_call_label(name: &str) -> bool {
    name.split_once('(').is_some_and(|(function, _)| {
        super::expr::Function::from_name(function).is_some() && name.ends_with(')')
    })
}

/// Writes a variable name in formula syntax, backquoting it when it is neither a plain name
/// nor a call's label.
pub(super) fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    if is_plain_name(name) || is_call_label(name) {
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
