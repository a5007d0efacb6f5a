//! [`Ddf`] and [`CoefficientTest`]: the t tests of the fixed effects with denominator degrees
//! of freedom, as lmerTest's `summary(m, ddf = …)` prints them.

use serde::Serialize;

use super::distributions::student_t_two_sided;
use crate::fit::Fit;
use crate::normal::two_sided_p;

/// How the denominator degrees of freedom of the fixed-effects tests are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Ddf {
    /// None: Wald z tests (infinite df), as MixedModels.jl.
    #[serde(rename = "none")]
    None,
    /// Satterthwaite's approximation, as lmerTest.
    #[serde(rename = "satterthwaite")]
    Satterthwaite,
    /// Kenward–Roger's, with its adjusted covariance of β̂, as pbkrtest (REML fits only).
    #[serde(rename = "kenward-roger")]
    KenwardRoger,
}

impl Ddf {
    /// `none`, `satterthwaite` or `kenward-roger` (also lmerTest's spellings).
    pub fn from_name(name: &str) -> Option<Ddf> {
        match name.to_ascii_lowercase().as_str() {
            "none" | "z" => Some(Ddf::None),
            "satterthwaite" => Some(Ddf::Satterthwaite),
            "kenward-roger" | "kenward_roger" | "kr" => Some(Ddf::KenwardRoger),
            _ => None,
        }
    }

    /// The name lmerTest prints.
    pub fn label(self) -> &'static str {
        match self {
            Ddf::None => "none",
            Ddf::Satterthwaite => "Satterthwaite",
            Ddf::KenwardRoger => "Kenward-Roger",
        }
    }
}

/// One fixed effect's t test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoefficientTest {
    /// Column name of X.
    pub name: String,
    /// β̂.
    pub estimate: f64,
    /// Standard error (Kenward–Roger's adjusted one for that method).
    pub std_error: f64,
    /// Denominator degrees of freedom (+∞ for z tests).
    pub df: f64,
    /// t = estimate / std_error.
    pub statistic: f64,
    /// Two-sided p-value of t on `df` degrees of freedom.
    pub p_value: f64,
}

impl CoefficientTest {
    /// The test of `estimate` with standard error `std_error` on `df` degrees of freedom.
    pub fn new(name: &str, estimate: f64, std_error: f64, df: f64) -> Self {
        let statistic = estimate / std_error;
        let p_value = if df.is_infinite() {
            two_sided_p(statistic)
        } else {
            student_t_two_sided(statistic, df)
        };
        Self {
            name: name.to_owned(),
            estimate,
            std_error,
            df,
            statistic,
            p_value,
        }
    }
}

/// The z tests of the fit (infinite df).
pub(crate) fn z_tests(fit: &Fit) -> Vec<CoefficientTest> {
    fit.coefficients()
        .iter()
        .map(|c| CoefficientTest::new(&c.name, c.estimate, c.std_error, f64::INFINITY))
        .collect()
}
