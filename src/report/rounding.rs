//! Rounding of every float on its way into `results.json` (the results, the audit and the
//! study use it): a fixed number of significant digits, so that last-bit differences between
//! CPUs cannot change a committed byte.

use serde::Serializer;

/// Significant digits kept for every float in `results.json`. Nelder–Mead stops at a relative
/// objective spread of about 1e-15, which pins the gasoline parameters to about 1e-7 (the
/// measured distance to the recorded optimum); six digits leave a margin so that a different
/// rounding in the last bits of a platform's linear algebra cannot show.
pub const SIGNIFICANT_DIGITS: usize = 6;

/// Digits for the simulation's variance estimates: σ_b² rests on 100 group effects, the
/// objective is flat along it, and the optimiser's stopping point moves it at the 1e-6 level.
pub const SIMULATION_DIGITS: usize = 5;

/// Rounds `x` to `digits` significant digits (through decimal formatting, so the result prints
/// the same everywhere).
pub fn round_sig(x: f64, digits: usize) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let text = format!("{:.*e}", digits.saturating_sub(1), x);
    let rounded: f64 = text.parse().unwrap_or(x);
    if rounded == 0.0 {
        0.0 // no negative zero in the output
    } else {
        rounded
    }
}

/// Serialises an `f64` rounded to [`SIGNIFICANT_DIGITS`].
pub fn rounded<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round_sig(*x, SIGNIFICANT_DIGITS))
}

/// Serialises a slice of `f64` rounded to [`SIGNIFICANT_DIGITS`].
pub fn rounded_vec<S: Serializer>(xs: &[f64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(xs.iter().map(|x| round_sig(*x, SIGNIFICANT_DIGITS)))
}

/// Serialises an `f64` rounded to one significant digit.
pub fn one_digit<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round_sig(*x, 1))
}

/// Serialises an optional `f64` rounded to [`SIGNIFICANT_DIGITS`] (`None` as `null`).
pub fn rounded_option<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) => s.serialize_some(&round_sig(*v, SIGNIFICANT_DIGITS)),
        None => s.serialize_none(),
    }
}
