//! The response of a generalised linear mixed model as its family sees it ([`GlmResponse`]),
//! with R's `binomial()$initialize` rules: a 0/1 (or numeric proportion) column, a text column
//! whose first level (byte order) is failure and every other level success, or
//! `cbind(successes, failures)` with an expression on either side; prior weights multiply
//! the trials. Offsets are kept apart (they enter the linear predictor, not the response).
//! Values outside the family's support are errors naming the data row.

use crate::formula::Transform;
use crate::glmm::Family;
use crate::table::Column;

use super::factor::Factor;
use super::frame::{ModelFrame, Variable};
use super::DesignError;

/// A GLMM response over the rows used.
#[derive(Debug, Clone, PartialEq)]
pub struct GlmResponse {
    /// The response: a proportion in [0, 1] (binomial) or a count (Poisson).
    pub y: Vec<f64>,
    /// The glm weights (R's `weights` after `initialize`): prior weights times the number of
    /// trials for `cbind`; the prior weights otherwise.
    pub weights: Vec<f64>,
    /// Binomial: the number of trials `m` of R's `binomial()$aic` (`n` when some `n > 1`,
    /// the weights otherwise), the density being `(weights/m)·dbinom(round(m·y), round(m), μ)`;
    /// Poisson: the weights.
    pub trials: Vec<f64>,
    /// The sum of the `offset()` terms (zeros without).
    pub offset: Vec<f64>,
    /// What the user should know (non-integer numbers of successes).
    pub notes: Vec<String>,
}

impl ModelFrame<'_> {
    /// The response of `family` over the rows used, checked against the family's support.
    pub(super) fn glm_response(&self, family: Family) -> Result<GlmResponse, DesignError> {
        let label = self.formula.response();
        let n = self.nobs();
        let prior = self.weights()?.unwrap_or_else(|| vec![1.0; n]);
        let mut offset = vec![0.0; n];
        for (off_label, x) in self.formula.offsets() {
            let values = self.kept(off_label, &self.evaluate(x, off_label)?)?;
            for (o, v) in offset.iter_mut().zip(values) {
                *o += v;
            }
        }
        let binomial = matches!(family, Family::Binomial(_));
        let out_of_support =
            |i: usize, value: f64, problem: &str| DesignError::ResponseOutOfSupport {
                response: label.to_owned(),
                row: self.rows[i] + 1,
                value,
                family: family.name(),
                problem: problem.to_owned(),
            };
        let mut notes = Vec::new();

        if let Some(Transform::Cbind {
            successes,
            failures,
        }) = self.formula.transform(label)
        {
            if !binomial {
                return Err(DesignError::ResponseFamily {
                    response: label.to_owned(),
                    problem: format!(
                        "is a binomial response (successes, failures), not one of the {} family",
                        family.name()
                    ),
                });
            }
            let s = self.kept(label, &self.evaluate(successes, label)?)?;
            let f = self.kept(label, &self.evaluate(failures, label)?)?;
            for i in 0..n {
                if s[i] < 0.0 {
                    return Err(out_of_support(
                        i,
                        s[i],
                        &format!("the number of successes ({successes}) must not be negative"),
                    ));
                }
                if f[i] < 0.0 {
                    return Err(out_of_support(
                        i,
                        f[i],
                        &format!("the number of failures ({failures}) must not be negative"),
                    ));
                }
            }
            let trials: Vec<f64> = s.iter().zip(&f).map(|(a, b)| a + b).collect();
            let y = s
                .iter()
                .zip(&trials)
                .map(|(s, t)| if *t > 0.0 { s / t } else { 0.0 })
                .collect();
            let weights: Vec<f64> = trials.iter().zip(&prior).map(|(t, w)| t * w).collect();
            let m = if trials.iter().any(|&t| t > 1.0) {
                trials
            } else {
                weights.clone()
            };
            if s.iter().chain(&f).any(|v| (v - v.round()).abs() > 1e-3) {
                notes.push("non-integer numbers of successes or failures in a binomial model (R warns: non-integer #successes)".to_owned());
            }
            return Ok(GlmResponse {
                y,
                weights,
                trials: m,
                offset,
                notes,
            });
        }

        let column = match self.formula.transform(label) {
            None => Some(self.column(label)),
            Some(_) => None,
        };
        let y: Vec<f64> = match (self.formula.transform(label), column) {
            (None, Some(Column::Text(values))) => {
                if !binomial {
                    return Err(DesignError::ResponseFamily {
                        response: label.to_owned(),
                        problem: format!("holds text; the {} family needs numbers", family.name()),
                    });
                }
                let factor = Factor::from_keys(label, self.text(values), |s| (*s).to_owned())?;
                if factor.levels.len() < 2 {
                    return Err(DesignError::SingleLevelFactor {
                        column: label.to_owned(),
                        level: factor.levels.first().cloned().unwrap_or_default(),
                    });
                }
                factor
                    .codes
                    .iter()
                    .map(|&c| f64::from(u8::from(c > 0)))
                    .collect()
            }
            (None, Some(column)) => self.numeric(column).unwrap_or_default(),
            _ => match self.variable(label)? {
                Variable::Numeric(v) => v,
                _ => {
                    return Err(DesignError::TextResponse {
                        name: label.to_owned(),
                    })
                }
            },
        };
        for (i, &v) in y.iter().enumerate() {
            match family {
                Family::Binomial(_) if !(0.0..=1.0).contains(&v) => {
                    return Err(out_of_support(
                        i,
                        v,
                        "a binomial response must be 0/1 or a proportion in [0, 1] (use \
                         cbind(successes, failures) for counts)",
                    ))
                }
                Family::Gamma(_) if v <= 0.0 => {
                    return Err(out_of_support(i, v, "a Gamma response must be positive"))
                }
                f if f.is_count() && v < 0.0 => {
                    return Err(out_of_support(i, v, "a count must not be negative"))
                }
                f if f.is_count() && v.fract() != 0.0 => {
                    return Err(out_of_support(i, v, "a count must be a whole number"))
                }
                _ => {}
            }
        }
        if binomial
            && y.iter()
                .zip(&prior)
                .any(|(y, w)| (y * w - (y * w).round()).abs() > 1e-3)
        {
            notes.push(
                "non-integer numbers of successes (proportion × weights) in a binomial model \
                 (R warns: non-integer #successes)"
                    .to_owned(),
            );
        }
        Ok(GlmResponse {
            y,
            trials: prior.clone(),
            weights: prior,
            offset,
            notes,
        })
    }
}
