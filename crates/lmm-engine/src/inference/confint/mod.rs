//! Confidence intervals for every parameter, with lme4's `confint(m, oldNames = FALSE)` names
//! ([`names`]): Wald ([`wald`]), likelihood profile ([`profile`]) and parametric-bootstrap
//! percentile ([`bootstrap`]) intervals.

pub mod bootstrap;
pub mod names;
pub mod profile;
pub mod wald;

use serde::Serialize;

/// The interval method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum ConfintMethod {
    /// β̂ ± z·SE for the fixed effects; none for the variance parameters (as lme4).
    #[serde(rename = "wald")]
    Wald,
    /// Likelihood-profile intervals (lme4's `method = "profile"`).
    #[serde(rename = "profile")]
    Profile,
    /// Parametric-bootstrap percentile intervals (lme4's `method = "boot"`).
    #[serde(rename = "bootstrap")]
    Bootstrap,
}

impl ConfintMethod {
    /// `wald`, `profile` or `bootstrap` (also `boot`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "wald" => Some(Self::Wald),
            "profile" => Some(Self::Profile),
            "bootstrap" | "boot" => Some(Self::Bootstrap),
            _ => None,
        }
    }

    /// The name used in JSON.
    pub fn label(self) -> &'static str {
        match self {
            Self::Wald => "wald",
            Self::Profile => "profile",
            Self::Bootstrap => "bootstrap",
        }
    }
}

/// One interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfintRow {
    /// lme4's name: `sd_(Intercept)|Subject`, `cor_Days.(Intercept)|Subject`, `sigma`, `Days`.
    pub parameter: String,
    /// Lower bound; `null` when undefined (Wald intervals of variance parameters, a profile
    /// that reaches the boundary of the parameter space first).
    pub lower: Option<f64>,
    /// Upper bound; `null` when undefined.
    pub upper: Option<f64>,
}
