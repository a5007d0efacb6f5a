//! Number formatting shared by the templates and the figures: fixed decimals with no negative
//! zero, and scientific notation.

/// Formats a number with a fixed count of decimals; `-0.000` prints as `0.000`.
pub fn format_fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_owned()
    } else {
        s
    }
}

/// Formats a number in scientific notation with a fixed count of decimals (`1.23e-5`).
pub fn format_sci(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$e}")
}
