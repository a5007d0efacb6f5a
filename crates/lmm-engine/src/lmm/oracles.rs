//! The model's objective as the convergence certificate sees it ([`Oracle`]): values (and, for
//! single-term models, exact gradients) at internal θ̃, every evaluation counted against the
//! fit's [`Budget`].
//!
//! * [`ModelOracle`]: one full factorisation per point; with the exact gradient for
//!   single-term models.
//! * [`ProfiledOracle`]: for models whose trailing terms are profiled out, points are
//!   evaluated grouped by their leading-terms θ̃, and only a change of those costs a
//!   factorisation (of the leading terms); moving the trailing θ̃ costs a small dense
//!   factorisation, which is not counted as an evaluation.

use crate::lmm::convergence::Oracle;
use crate::lmm::deviance::Criterion;
use crate::lmm::factor::BlockedCholesky;
use crate::lmm::gradient::SingleTermGradient;
use crate::lmm::model::LinearMixedModel;
use crate::lmm::optimizers::Budget;
use crate::lmm::profiled_tail::TailProfile;
use crate::lmm::scaling::ThetaScaling;

/// An oracle that counts against the fit's budget.
pub trait Counted {
    /// Evaluations left in the budget.
    fn left(&self) -> usize;
}

impl Counted for ModelOracle<'_, '_, '_> {
    fn left(&self) -> usize {
        self.budget.left()
    }
}

impl Counted for ProfiledOracle<'_, '_, '_> {
    fn left(&self) -> usize {
        self.budget.left()
    }
}

/// Full evaluations of the model.
pub struct ModelOracle<'m, 'b, 'p> {
    model: &'m mut LinearMixedModel,
    criterion: Criterion,
    budget: &'b mut Budget<'p>,
    gradient: Option<SingleTermGradient>,
}

impl<'m, 'b, 'p> ModelOracle<'m, 'b, 'p> {
    /// The oracle of `model`; with exact gradients when the model has one term.
    pub fn new(
        model: &'m mut LinearMixedModel,
        criterion: Criterion,
        budget: &'b mut Budget<'p>,
    ) -> Self {
        let gradient = (model.factor.terms().len() == 1)
            .then(|| SingleTermGradient::new(model.factor.terms()[0].width, model.nfixed()));
        Self {
            model,
            criterion,
            budget,
            gradient,
        }
    }
}

impl Oracle for ModelOracle<'_, '_, '_> {
    fn values(&mut self, points: &[Vec<f64>]) -> Vec<f64> {
        points
            .iter()
            .map(|p| {
                let f = self.model.objective_internal(p, self.criterion);
                self.budget.record(f);
                f
            })
            .collect()
    }

    fn value_and_gradient(&mut self, x: &[f64], gradient: &mut [f64]) -> Option<f64> {
        let workspace = self.gradient.as_mut()?;
        if let Some(f) = self
            .model
            .low_rank_value_and_gradient(x, self.criterion, gradient)
        {
            self.budget.record(f);
            return Some(f);
        }
        let f = self.model.objective_internal(x, self.criterion);
        if f.is_finite() {
            workspace.compute(&self.model.factor, self.criterion, gradient);
            self.model.scaling.gradient_to_internal(gradient);
        } else {
            gradient.fill(f64::NAN);
        }
        self.budget.record(f);
        Some(f)
    }

    fn has_gradient(&self) -> bool {
        self.gradient.is_some()
    }
}

/// Evaluations through the profiled tail.
pub struct ProfiledOracle<'a, 'b, 'p> {
    factor: &'a mut BlockedCholesky,
    scaling: &'a ThetaScaling,
    profile: &'a mut TailProfile,
    criterion: Criterion,
    budget: &'b mut Budget<'p>,
}

impl<'a, 'b, 'p> ProfiledOracle<'a, 'b, 'p> {
    /// The oracle of `model`, which must have a tail profile (`None` otherwise).
    pub fn new(
        model: &'a mut LinearMixedModel,
        criterion: Criterion,
        budget: &'b mut Budget<'p>,
    ) -> Option<Self> {
        let profile = model.tail_profile.as_mut()?;
        // The factor is left holding a head factorisation only.
        model.factored = false;
        Some(Self {
            profile,
            factor: &mut model.factor,
            scaling: &model.scaling,
            criterion,
            budget,
        })
    }
}

impl Oracle for ProfiledOracle<'_, '_, '_> {
    fn values(&mut self, points: &[Vec<f64>]) -> Vec<f64> {
        // Points whose head is already factored first, then grouped by head.
        let head = self.profile.head().to_vec();
        let key = |p: &Vec<f64>| head.iter().map(|&i| p[i]).collect::<Vec<f64>>();
        let mut order: Vec<usize> = (0..points.len()).collect();
        order.sort_by(|&a, &b| {
            let (la, lb) = (
                self.profile.is_loaded(&points[a]),
                self.profile.is_loaded(&points[b]),
            );
            lb.cmp(&la).then_with(|| {
                key(&points[a])
                    .iter()
                    .zip(key(&points[b]).iter())
                    .map(|(x, y)| x.total_cmp(y))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
        });
        let mut values = vec![f64::NAN; points.len()];
        for i in order {
            let f = match self.profile.load(self.factor, self.scaling, &points[i]) {
                Ok(factored) => {
                    let f = self
                        .profile
                        .objective(self.scaling, &points[i], self.criterion);
                    if factored {
                        self.budget.record(f);
                    }
                    f
                }
                Err(_) => {
                    self.budget.record(f64::INFINITY);
                    f64::INFINITY
                }
            };
            values[i] = f;
        }
        values
    }
}
