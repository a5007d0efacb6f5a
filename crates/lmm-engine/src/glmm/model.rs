//! [`GeneralizedLinearMixedModel`]: a GLMM ready to be fitted — the PIRLS state on the
//! blocked Cholesky factor, the conditional density — and its objectives: the Laplace or
//! adaptive-quadrature deviance at (θ, β) with the modes from PIRLS, and the `fast`
//! (lme4's `nAGQ = 0`) deviance at θ with β estimated inside PIRLS.

use crate::design::{GlmResponse, ModelMatrices};
use crate::lmm::crossprod::CrossProducts;
use crate::lmm::scaling::ThetaScaling;
use crate::lmm::theta::ThetaLayout;
use crate::lmm::ModelError;

use super::aggregate::aggregate;
use super::agq::{agq_deviance, GaussHermite, MAX_NAGQ};
use super::family::Family;
use super::laplace::ConditionalDensity;
use super::pirls::{Pirls, PirlsFailure};
use super::profile::BetaProfile;

/// Names carried from the model matrices to the result.
#[derive(Debug, Clone)]
pub(crate) struct Labels {
    pub(crate) response: String,
    pub(crate) fixed: Vec<String>,
    pub(crate) dropped_fixed: Vec<String>,
    pub(crate) rows_dropped: usize,
    /// Per term (formula order): group, columns, levels.
    pub(crate) terms: Vec<(String, Vec<String>, Vec<String>)>,
}

/// How the data's rows map to the rows PIRLS iterates over ([`super::aggregate`]).
#[derive(Debug, Clone)]
pub(crate) struct DataRows {
    /// Rows of the data used by the fit.
    pub(crate) nobs: usize,
    /// Data rows behind each PIRLS row (`None`: one each).
    pub(crate) multiplicity: Option<Vec<usize>>,
    /// The PIRLS row of each data row (`None`: the same row).
    pub(crate) group: Option<Vec<u32>>,
    /// Σ deviance residuals over the data's rows minus Σ over PIRLS's rows (μ-free).
    pub(crate) deviance_constant: f64,
}

/// A generalised linear mixed model ready to be fitted.
#[derive(Clone)]
pub struct GeneralizedLinearMixedModel {
    pub(crate) pirls: Pirls,
    pub(crate) rows: DataRows,
    pub(crate) density: ConditionalDensity,
    pub(crate) scaling: ThetaScaling,
    pub(crate) labels: Labels,
    /// Objective evaluations so far.
    pub(crate) evaluations: usize,
    /// The quadrature rule when nAGQ > 1.
    rule: Option<GaussHermite>,
    /// The exact β-profile's warm start and counts.
    pub(crate) profile: BetaProfile,
}

impl GeneralizedLinearMixedModel {
    /// Validates the design (a grouping factor may have one level per observation, as glmer
    /// allows) and sets up PIRLS.
    pub fn new(
        mm: &ModelMatrices,
        response: &GlmResponse,
        family: Family,
    ) -> Result<Self, ModelError> {
        if !family.is_glmm() {
            return Err(ModelError::Dimension(
                "the Gaussian family is a linear mixed model".to_owned(),
            ));
        }
        if let Family::NegativeBinomial(_, None) = family {
            return Err(ModelError::Unsupported(
                "a negative binomial model needs its θ: give it (Family::with_shape), or let \
                 lmm_engine::fit estimate it"
                    .to_owned(),
            ));
        }
        CrossProducts::validate_glmm(mm)?;
        let n = mm.nobs();
        for (what, v) in [
            ("response", &response.y),
            ("weights", &response.weights),
            ("offset", &response.offset),
        ] {
            if v.len() != n || v.iter().any(|x| !x.is_finite()) {
                return Err(ModelError::NonFinite(format!("the GLMM {what}")));
            }
        }
        let layout = ThetaLayout::for_terms(&mm.terms);
        // θ̃'s scales from the data's rows, whatever PIRLS iterates over.
        let scaling = ThetaScaling::new(&CrossProducts::build(mm), &layout)
            .in_units_of(linear_predictor_unit(family, response));
        let density = ConditionalDensity::new(response, family);
        let (pirls, density, rows) = match aggregate(mm, response, &density, family) {
            Some(a) => (
                Pirls::new(&a.mm, &a.response, family),
                a.density,
                DataRows {
                    nobs: n,
                    multiplicity: Some(a.multiplicity),
                    group: Some(a.group),
                    deviance_constant: a.deviance_constant,
                },
            ),
            None => (
                Pirls::new(mm, response, family),
                density,
                DataRows {
                    nobs: n,
                    multiplicity: None,
                    group: None,
                    deviance_constant: 0.0,
                },
            ),
        };
        Ok(Self {
            pirls,
            density,
            rows,
            scaling,
            labels: Labels {
                response: mm.response.clone(),
                fixed: mm.fixed_names.clone(),
                dropped_fixed: mm.dropped_fixed.clone(),
                rows_dropped: mm.rows_dropped,
                terms: mm
                    .terms
                    .iter()
                    .map(|t| (t.group.clone(), t.columns.clone(), t.levels.clone()))
                    .collect(),
            },
            evaluations: 0,
            rule: None,
            profile: BetaProfile::default(),
        })
    }

    /// The family.
    pub fn family(&self) -> Family {
        self.pirls.family
    }

    /// The θ layout (formula order).
    pub fn theta_layout(&self) -> &ThetaLayout {
        &self.pirls.layout
    }

    /// Number of fixed-effects parameters.
    pub fn nfixed(&self) -> usize {
        self.labels.fixed.len()
    }

    /// Rows PIRLS iterates over: the distinct covariate patterns of the data's rows.
    pub fn pirls_rows(&self) -> usize {
        self.pirls.nobs()
    }

    /// PIRLS iterations run so far.
    pub fn pirls_iterations(&self) -> usize {
        self.pirls.iterations
    }

    /// Checks that `nagq` quadrature points are possible for this model: at most 25, and more
    /// than one only for a single scalar random-effects term (lme4's rule).
    pub fn check_nagq(&self, nagq: usize) -> Result<(), ModelError> {
        if nagq > MAX_NAGQ {
            return Err(ModelError::Optimizer(format!(
                "nAGQ = {nagq}: at most {MAX_NAGQ} quadrature points are supported"
            )));
        }
        let layout = self.theta_layout();
        if nagq > 1 && (layout.nterms() != 1 || layout.width(0) != 1) {
            return Err(ModelError::Optimizer(format!(
                "nAGQ = {nagq} > 1 is only defined for a single scalar random-effects term \
                 (this model has {} term(s)); use the Laplace approximation (nAGQ = 1)",
                layout.nterms()
            )));
        }
        Ok(())
    }

    /// The deviance at θ (lme4's layout) and β with the modes from PIRLS: the Laplace
    /// approximation for `nagq ≤ 1`, adaptive Gauss–Hermite quadrature otherwise (see
    /// [`GeneralizedLinearMixedModel::check_nagq`]), on lme4's scale for that `nagq`.
    pub fn deviance(
        &mut self,
        theta: &[f64],
        beta: &[f64],
        nagq: usize,
    ) -> Result<f64, PirlsFailure> {
        self.evaluations += 1;
        self.pirls.run(theta, Some(beta))?;
        if nagq > 1 {
            if self.rule.as_ref().is_none_or(|r| r.knots.len() != nagq) {
                self.rule = Some(GaussHermite::new(nagq));
            }
            let rule = self
                .rule
                .as_ref()
                .cloned()
                .unwrap_or_else(|| GaussHermite::new(nagq));
            return Ok(agq_deviance(&mut self.pirls, &rule) + self.rows.deviance_constant);
        }
        Ok(self.laplace(false))
    }

    /// The `fast` deviance at θ: β and u from joint PIRLS, the Laplace approximation there
    /// (lme4's `nAGQ = 0` objective).
    pub fn deviance_fast(&mut self, theta: &[f64]) -> Result<f64, PirlsFailure> {
        self.evaluations += 1;
        self.pirls.run(theta, None)?;
        Ok(self.laplace(true))
    }

    /// −2 log p(y | μ) + log|L|² + ‖u‖² at the current PIRLS state.
    pub(crate) fn laplace(&self, joint: bool) -> f64 {
        let factor = if joint {
            &self.pirls.factor_joint
        } else {
            &self.pirls.factor_u
        };
        self.density.minus_two_log_density(&self.pirls.mu)
            + factor.logdet_random()
            + self.pirls.u_squared()
    }

    /// μ of the current PIRLS state for each data row.
    pub fn data_means(&self) -> Vec<f64> {
        match &self.rows.group {
            Some(g) => g.iter().map(|&g| self.pirls.mu[g as usize]).collect(),
            None => self.pirls.mu.clone(),
        }
    }

    /// β of the current PIRLS state.
    pub fn beta(&self) -> &[f64] {
        &self.pirls.beta
    }
}

/// The size of the linear predictor, for θ's scaling: |g(ȳ)| (ȳ the weighted mean response)
/// for the identity and inverse links, whose η is in the response's units or their inverse
/// (a Gamma fit of a response in milliseconds has η near 1/300); 1 for the others, whose η
/// is unit-free.
fn linear_predictor_unit(family: Family, response: &GlmResponse) -> f64 {
    let (sw, swy) = response
        .weights
        .iter()
        .zip(&response.y)
        .fold((0.0, 0.0), |(a, b), (w, y)| (a + w, b + w * y));
    let mean = if sw > 0.0 { swy / sw } else { 1.0 };
    let unit = match family.link() {
        super::link::Link::Identity => mean.abs(),
        super::link::Link::Inverse => 1.0 / mean.abs(),
        _ => 1.0,
    };
    if unit.is_finite() && unit > 0.0 {
        unit
    } else {
        1.0
    }
}
