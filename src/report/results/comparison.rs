//! The six-column comparison table: each quantity under every estimator, and the agreement
//! of chosen pairs in absolute difference and significant digits.

use serde::Serialize;

use super::article_fits::ArticleEstimate;
use super::engine_fits::EngineEstimate;
use super::references::References;
use super::FIXED_NAMES;
use crate::report::rounding::{one_digit, rounded};

/// One row of the side-by-side comparison: a quantity in every estimator's column, `None`
/// where the estimator does not produce it.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    /// Markdown label.
    pub label: String,
    /// Decimals to print.
    pub decimals: usize,
    /// In [`COMPARISON_COLUMNS`] order.
    pub values: Vec<Option<Rounded>>,
    /// Agreement of each engine-or-corrected column with its lme4 counterpart, in
    /// [`AGREEMENT_PAIRS`] order.
    pub agreement: Vec<Option<Difference>>,
}

/// An `f64` that serialises rounded to [`SIGNIFICANT_DIGITS`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Rounded(#[serde(serialize_with = "rounded")] pub f64);

/// |a − b| / |b| and the number of significant digits on which a and b agree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    /// The relative difference, rounded *up* to one significant digit (as shown), so that the
    /// agreement shown is never better than the real one.
    #[serde(serialize_with = "one_digit")]
    pub relative: f64,
    /// ⌊−log10⌋ of the relative difference *as shown* (capped at 15), so that two cells that
    /// show the same difference always show the same digits.
    pub digits: u32,
}

impl Difference {
    /// Compares `a` with the reference `b`.
    pub fn of(a: f64, b: f64) -> Self {
        let relative = round_up_one_digit((a - b).abs() / b.abs().max(f64::MIN_POSITIVE));
        let digits = if relative == 0.0 {
            15
        } else {
            (-relative.log10()).floor().clamp(0.0, 15.0) as u32
        };
        Self { relative, digits }
    }
}

/// `x ≥ 0` rounded up to one significant digit (`1.4e-7` → `2e-7`; `1e-7` stays), through
/// decimal text so the result prints exactly.
fn round_up_one_digit(x: f64) -> f64 {
    if !(x > 0.0 && x.is_finite()) {
        return x;
    }
    let exponent = x.log10().floor() as i32;
    let scale = 10f64.powi(exponent);
    // A hair of tolerance: 1e-7 computed as 1.0000000000000002e-7 is still 1e-7.
    let mantissa = (x / scale * (1.0 - 1e-12)).ceil();
    let text = format!("{}e{exponent}", mantissa as u32);
    text.parse().unwrap_or(x)
}

/// Column headings of the comparison table.
pub const COMPARISON_COLUMNS: [&str; 6] = [
    "article, as published",
    "article, corrected",
    "sparse engine, ML",
    "lme4, ML",
    "sparse engine, REML",
    "lme4, REML",
];

/// (estimate column, reference column) pairs of the agreement columns.
pub const AGREEMENT_PAIRS: [(usize, usize); 3] = [(1, 3), (2, 3), (4, 5)];

/// Headings of the agreement columns, in [`AGREEMENT_PAIRS`] order.
pub const AGREEMENT_COLUMNS: [&str; 3] = [
    "corrected − lme4 ML",
    "engine ML − lme4 ML",
    "engine REML − lme4 REML",
];

/// The comparison table.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub columns: Vec<String>,
    pub agreement_columns: Vec<String>,
    pub rows: Vec<ComparisonRow>,
    /// Fewest agreeing digits over every row and pair: the headline agreement.
    pub min_digits: u32,
}

pub(super) fn comparison(
    article: &[ArticleEstimate],
    engine: &[EngineEstimate],
    refs: &References,
) -> Comparison {
    let (pubd, cor) = (&article[0], &article[1]);
    let (ml, reml) = (&engine[0], &engine[1]);
    let (lml, lreml) = (&refs.lme4_ml, &refs.lme4_reml);
    let some = |v: f64| Some(Rounded(v));
    let mut rows: Vec<(String, usize, Vec<Option<Rounded>>)> = vec![
        (
            "$\\sigma^2$".into(),
            6,
            vec![
                some(pubd.sigma2),
                some(cor.sigma2),
                some(ml.sigma2),
                some(lml.sigma2),
                some(reml.sigma2),
                some(lreml.sigma2),
            ],
        ),
        (
            "$\\sigma_b^2$".into(),
            4,
            vec![
                some(pubd.sigma_b2),
                some(cor.sigma_b2),
                some(ml.sigma_b2),
                some(lml.sigma_b2),
                some(reml.sigma_b2),
                some(lreml.sigma_b2),
            ],
        ),
        (
            "$\\sigma$".into(),
            5,
            vec![
                some(pubd.sigma),
                some(cor.sigma),
                some(ml.sigma2.sqrt()),
                some(lml.sigma2.sqrt()),
                some(reml.sigma2.sqrt()),
                some(lreml.sigma2.sqrt()),
            ],
        ),
        (
            "$\\sigma_b$".into(),
            4,
            vec![
                some(pubd.sigma_b),
                some(cor.sigma_b),
                some(ml.sigma_b2.sqrt()),
                some(lml.sigma_b2.sqrt()),
                some(reml.sigma_b2.sqrt()),
                some(lreml.sigma_b2.sqrt()),
            ],
        ),
    ];
    for (i, name) in FIXED_NAMES.iter().enumerate() {
        rows.push((
            format!("$\\beta$ `{name}`"),
            5,
            vec![
                some(pubd.beta[i].estimate),
                some(cor.beta[i].estimate),
                some(ml.beta[i].estimate),
                some(lml.beta[i]),
                some(reml.beta[i].estimate),
                some(lreml.beta[i]),
            ],
        ));
        rows.push((
            format!("std. error `{name}`"),
            5,
            vec![
                None,
                None,
                some(ml.std_errors[i]),
                some(lml.std_errors[i]),
                some(reml.std_errors[i]),
                some(lreml.std_errors[i]),
            ],
        ));
    }
    rows.push((
        "$-2\\log L$ (ML) / REML criterion".into(),
        3,
        vec![
            some(pubd.deviance),
            some(cor.deviance),
            some(ml.objective),
            some(lml.objective),
            some(reml.objective),
            some(lreml.objective),
        ],
    ));
    let rows: Vec<ComparisonRow> = rows
        .into_iter()
        .map(|(label, decimals, values)| {
            let agreement = AGREEMENT_PAIRS
                .iter()
                .map(|&(a, b)| match (values[a], values[b]) {
                    (Some(x), Some(y)) => Some(Difference::of(x.0, y.0)),
                    _ => None,
                })
                .collect();
            ComparisonRow {
                label,
                decimals,
                values,
                agreement,
            }
        })
        .collect();
    let min_digits = rows
        .iter()
        .flat_map(|r| r.agreement.iter().flatten())
        .map(|d| d.digits)
        .min()
        .unwrap_or(0);
    Comparison {
        columns: COMPARISON_COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
        agreement_columns: AGREEMENT_COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
        rows,
        min_digits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_round_up_and_equal_differences_read_equally() {
        assert_eq!(round_up_one_digit(1.4e-7), 2e-7);
        assert_eq!(round_up_one_digit(1e-7), 1e-7);
        assert_eq!(round_up_one_digit(9.2e-8), 1e-7);
        let a = Difference::of(1.0 + 1.4e-7, 1.0);
        let b = Difference::of(100.0 + 1.9e-5, 100.0);
        assert_eq!((a.relative, a.digits), (2e-7, 6));
        assert_eq!((b.relative, b.digits), (a.relative, a.digits));
        assert_eq!(Difference::of(3.0, 3.0).digits, 15);
    }
}
