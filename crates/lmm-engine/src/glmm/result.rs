//! Turns the PIRLS state at the optimum into a [`FitResult`] with lme4's GLMM conventions —
//! σ = 1, variance components `λλ'`, β's covariance `(R_X'R_X)⁻¹` from the weighted system at
//! the final working weights (lme4's `vcov()` without the finite-difference Hessian),
//! conditional modes and standard deviations from `L`, `dof = p + len(θ)` — and the
//! GLMM-specific facts ([`GlmmInfo`]).

use serde::Serialize;

use crate::lmm::estimates;
use crate::lmm::fit_result::{
    ConditionalModes, Convergence, FitResult, FixedEffect, GroupingFactor, InformationCriteria,
    VarianceComponent,
};
use crate::lmm::model::SINGULAR_TOLERANCE;
use crate::lmm::theta::relative_covariance;
use crate::lmm::{Criterion, ModelError};

use super::family::Family;
use super::link::Link;
use super::model::GeneralizedLinearMixedModel;

/// What a GLMM fit adds to a [`FitResult`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlmmInfo {
    /// The family.
    pub family: Family,
    /// The link.
    pub link: Link,
    /// Quadrature points: 1 Laplace, 0 `fast` (lme4's `nAGQ`).
    pub nagq: usize,
    /// lme4's `deviance()` of a GLMM: the sum of the conditional deviance residuals at the
    /// modes (not −2 logLik).
    pub deviance: f64,
    /// Residual degrees of freedom, n − p − len(θ).
    pub df_resid: usize,
    /// PIRLS iterations over the whole fit.
    pub pirls_iterations: usize,
    /// Rows PIRLS iterated over: the data's distinct covariate patterns (rows that share X,
    /// every random-effects level and z, and the offset are one row with their weights
    /// summed — the same likelihood).
    pub pirls_rows: usize,
    /// Notes about the fit (fitted probabilities at 0 or 1).
    pub notes: Vec<String>,
}

impl GeneralizedLinearMixedModel {
    /// Standard errors of β from the joint weighted system at the current state.
    pub(crate) fn fixed_standard_errors(&mut self) -> Result<Vec<f64>, ModelError> {
        let cov = self.fixed_covariance()?;
        let p = self.nfixed();
        Ok((0..p).map(|j| cov[j * p + j].sqrt()).collect())
    }

    fn fixed_covariance(&mut self) -> Result<Vec<f64>, ModelError> {
        self.pirls.refactor(true).map_err(|e| {
            ModelError::NotPositiveDefinite(format!(
                "the weighted fixed-effects system at the estimates: {}",
                e.describe()
            ))
        })?;
        let p = self.nfixed();
        let (_, linv) = estimates::fixed_effects(&self.pirls.factor_joint);
        Ok(estimates::fixed_covariance(&linv, p, 1.0))
    }

    /// The result at the current (converged) PIRLS state, which is at `theta`.
    pub(crate) fn assemble(
        &mut self,
        theta: Vec<f64>,
        objective: f64,
        nagq: usize,
        convergence: Convergence,
        message: String,
    ) -> (FitResult, GlmmInfo) {
        let p = self.nfixed();
        // The dispersion families' σ: lme4's sigmaML, √((Σ wᵢ(yᵢ − μᵢ)²/V(μᵢ) + ‖u‖²)/n).
        let sigma = if self.family().has_dispersion() {
            let pearson: f64 = (0..self.pirls.nobs())
                .map(|i| {
                    let (y, mu) = (self.pirls.y[i], self.pirls.mu[i]);
                    self.pirls.weights[i] * (y - mu).powi(2) / self.family().variance(mu)
                })
                .sum();
            ((pearson + self.pirls.u_squared()) / self.rows.nobs as f64).sqrt()
        } else {
            1.0
        };
        let sigma2 = sigma * sigma;
        let fixed_covariance: Vec<f64> = self
            .fixed_covariance()
            .unwrap_or_else(|_| vec![f64::NAN; p * p])
            .into_iter()
            .map(|v| v * sigma2)
            .collect();
        let beta = self.pirls.beta.clone();
        let fixed = self
            .labels
            .fixed
            .iter()
            .enumerate()
            .map(|(i, name)| FixedEffect {
                name: name.clone(),
                estimate: beta[i],
                std_error: fixed_covariance[i * p + i].sqrt(),
            })
            .collect();
        // The u-only factor at the final weights: conditional variances of the modes.
        let factored = self.pirls.refactor(false).is_ok();
        let factor = &self.pirls.factor_u;
        let mut internal_of = vec![0usize; self.labels.terms.len()];
        for (t, term) in factor.terms().iter().enumerate() {
            internal_of[term.formula_index] = t;
        }
        let u_internal: Vec<Vec<f64>> = factor
            .terms()
            .iter()
            .map(|t| self.pirls.u[t.formula_index].clone())
            .collect();
        let modes = estimates::conditional_modes(factor, &u_internal);
        let covariances = if factored {
            estimates::conditional_covariances(factor, sigma2)
        } else {
            modes
                .iter()
                .map(|m| vec![f64::NAN; m.len() * m.len().max(1)])
                .collect()
        };
        let layout = self.pirls.layout.clone();
        let mut variance_components = Vec::new();
        let mut random_effects = Vec::new();
        let mut groups: Vec<GroupingFactor> = Vec::new();
        for (f, (group, columns, levels)) in self.labels.terms.iter().enumerate() {
            let t = internal_of[f];
            let k = columns.len();
            let mut lambda = vec![0.0; k * k];
            layout.fill_lambda(f, &theta, &mut lambda);
            let rel = relative_covariance(k, &lambda);
            variance_components.push(VarianceComponent::from_relative(
                group.clone(),
                columns.clone(),
                &rel,
                sigma2,
            ));
            let conditional_sd = covariances[t]
                .chunks_exact(k * k)
                .flat_map(|c| (0..k).map(move |j| c[j + j * k].max(0.0).sqrt()))
                .collect();
            random_effects.push(ConditionalModes {
                group: group.clone(),
                columns: columns.clone(),
                levels: levels.clone(),
                modes: modes[t].clone(),
                conditional_sd,
            });
            if !groups.iter().any(|g| g.name == *group) {
                groups.push(GroupingFactor {
                    name: group.clone(),
                    levels: levels.len(),
                });
            }
        }
        let nobs = self.rows.nobs;
        // lme4 counts the negative binomial's θ and the Gamma's dispersion as parameters.
        let dof = p
            + theta.len()
            + usize::from(matches!(self.family(), Family::NegativeBinomial(..)))
            + usize::from(self.family().has_dispersion());
        let ic = InformationCriteria::new(objective, dof, nobs);
        let mut notes = Vec::new();
        if let Family::Binomial(_) = self.family() {
            let extreme: usize = self
                .pirls
                .mu
                .iter()
                .enumerate()
                .filter(|(_, &m)| !(1e-10..=1.0 - 1e-10).contains(&m))
                .map(|(g, _)| self.rows.multiplicity.as_ref().map_or(1, |c| c[g]))
                .sum();
            if extreme > 0 {
                notes.push(format!(
                    "fitted probabilities numerically 0 or 1 occurred for {extreme} \
                     observation(s): possible complete or quasi-complete separation"
                ));
            }
        }
        let info = GlmmInfo {
            family: self.family(),
            link: self.family().link(),
            nagq,
            deviance: self.pirls.deviance_residuals() + self.rows.deviance_constant,
            pirls_rows: self.pirls.nobs(),
            df_resid: nobs.saturating_sub(dof),
            pirls_iterations: self.pirls.iterations,
            notes,
        };
        let result = FitResult {
            criterion: Criterion::Ml,
            response: self.labels.response.clone(),
            nobs,
            singular: layout.is_singular(&self.scaling.to_internal(&theta), SINGULAR_TOLERANCE),
            theta,
            fixed,
            fixed_covariance,
            sigma,
            objective,
            loglik: ic.loglik,
            aic: ic.aic,
            aicc: ic.aicc,
            bic: ic.bic,
            dof,
            variance_components,
            random_effects,
            groups,
            converged: convergence.status.converged(),
            convergence,
            evaluations: self.evaluations,
            message,
            dropped_fixed: self.labels.dropped_fixed.clone(),
            rows_dropped: self.labels.rows_dropped,
        };
        (result, info)
    }
}
