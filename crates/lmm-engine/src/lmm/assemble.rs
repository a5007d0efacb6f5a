//! Turns the factor at θ̂ into a [`FitResult`]: β̂ and its covariance, σ̂, variance components
//! in the user's terms (variances, standard deviations, correlations), conditional modes and
//! their conditional standard deviations, information criteria; internal term order is mapped
//! back to formula order here.

use crate::lmm::deviance::{Criterion, ProfiledDeviance};
use crate::lmm::estimates;
use crate::lmm::fit_result::{
    ConditionalModes, Convergence, FitResult, FixedEffect, GroupingFactor, InformationCriteria,
    VarianceComponent,
};
use crate::lmm::model::{LinearMixedModel, SINGULAR_TOLERANCE};
use crate::lmm::theta::relative_covariance;

impl LinearMixedModel {
    /// Builds the result from the factor at θ̂.
    pub(super) fn assemble(
        &self,
        criterion: Criterion,
        theta: Vec<f64>,
        objective: f64,
        evaluations: usize,
        convergence: Convergence,
        message: String,
    ) -> FitResult {
        let pd = ProfiledDeviance::from_factor(&self.factor);
        let sigma2 = pd.sigma_squared(criterion);
        let p = self.fixed_names.len();
        let (beta, linv) = estimates::fixed_effects(&self.factor);
        let fixed_covariance = estimates::fixed_covariance(&linv, p, sigma2);
        let fixed = self
            .fixed_names
            .iter()
            .enumerate()
            .map(|(i, name)| FixedEffect {
                name: name.clone(),
                estimate: beta[i],
                std_error: fixed_covariance[i * p + i].sqrt(),
            })
            .collect();

        let u = estimates::spherical_modes(&self.factor, &beta);
        let modes = estimates::conditional_modes(&self.factor, &u);
        let covariances = estimates::conditional_covariances(&self.factor, sigma2);
        // Internal order → formula order.
        let mut internal_of = vec![0usize; self.labels.len()];
        for (t, term) in self.factor.terms().iter().enumerate() {
            internal_of[term.formula_index] = t;
        }

        let mut variance_components = Vec::with_capacity(self.labels.len());
        let mut random_effects = Vec::with_capacity(self.labels.len());
        let mut groups: Vec<GroupingFactor> = Vec::new();
        for (f, labels) in self.labels.iter().enumerate() {
            let t = internal_of[f];
            let k = labels.columns.len();
            let mut lambda = vec![0.0; k * k];
            self.layout.fill_lambda(f, &theta, &mut lambda);
            let rel = relative_covariance(k, &lambda);
            variance_components.push(VarianceComponent::from_relative(
                labels.group.clone(),
                labels.columns.clone(),
                &rel,
                sigma2,
            ));
            let cov = &covariances[t];
            let conditional_sd = cov
                .chunks_exact(k * k)
                .flat_map(|c| (0..k).map(move |j| c[j + j * k].max(0.0).sqrt()))
                .collect();
            random_effects.push(ConditionalModes {
                group: labels.group.clone(),
                columns: labels.columns.clone(),
                levels: labels.levels.clone(),
                modes: modes[t].clone(),
                conditional_sd,
            });
            if !groups.iter().any(|g| g.name == labels.group) {
                groups.push(GroupingFactor {
                    name: labels.group.clone(),
                    levels: labels.levels.len(),
                });
            }
        }

        let dof = p + theta.len() + 1;
        let ic = InformationCriteria::new(objective, dof, self.nobs);
        FitResult {
            criterion,
            response: self.response.clone(),
            nobs: self.nobs,
            // On θ̃: lme4's θ diagonal, and so its isSingular, changes with the units.
            singular: self
                .layout
                .is_singular(&self.scaling.to_internal(&theta), SINGULAR_TOLERANCE),
            theta,
            fixed,
            fixed_covariance,
            sigma: sigma2.sqrt(),
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
            evaluations,
            message,
            dropped_fixed: self.dropped_fixed.clone(),
            rows_dropped: self.rows_dropped,
        }
    }
}
