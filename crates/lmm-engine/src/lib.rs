//! # lmm-engine
//!
//! Linear mixed models as lme4's `lmer` and MixedModels.jl fit them: lme4 formulas, profiled
//! maximum likelihood or REML, a blocked sparse Cholesky factorisation whose per-iteration cost
//! depends on the number of random effects and not on the number of rows.
//!
//! ## Fitting a model
//!
//! Put the data in a [`Table`] (numeric, integer and text columns; `None` is a missing cell),
//! write the model as lme4 would (`factor(x)`, `log(y)`, `I(x^2)`, `poly(x, 2)`, `scale(x)`,
//! `offset(…)` included), and call [`fit`]; [`FitOptions`] also declares factor columns,
//! contrasts and prior weights:
//!
//! ```
//! use lmm_engine::{fit, Column, Criterion, FitOptions, Table};
//!
//! // Six subjects, four days each: reaction = 250 + 10·day + a subject effect + noise.
//! let mut days = Vec::new();
//! let mut subject = Vec::new();
//! let mut reaction = Vec::new();
//! for s in 0..6 {
//!     for d in 0..4 {
//!         let noise = ((s * 7 + d * 3) % 5) as f64 - 2.0;
//!         days.push(Some(d as f64));
//!         subject.push(Some(format!("S{s}")));
//!         reaction.push(Some(250.0 + 10.0 * d as f64 + 4.0 * s as f64 + noise));
//!     }
//! }
//! let table = Table::new()
//!     .with("Reaction", Column::Numeric(reaction))
//!     .with("Days", Column::Numeric(days))
//!     .with("Subject", Column::Text(subject));
//!
//! let options = FitOptions::default().with_criterion(Criterion::Reml);
//! let fit = fit("Reaction ~ 1 + Days + (1 | Subject)", &table, &options)?;
//! assert!(fit.converged());
//! assert_eq!(fit.coefficients()[1].name, "Days");
//! assert!((fit.beta()[1] - 10.0).abs() < 1.0);
//! println!("{fit}"); // a MixedModels.jl-style summary
//! let json = serde_json::to_string(&fit).expect("serialisable");
//! assert!(json.contains("\"criterion\":\"REML\""));
//! # Ok::<(), lmm_engine::Error>(())
//! ```
//!
//! [`Fit`] carries the formula, the estimates (coefficients, standard errors, variance
//! components, σ, log-likelihood, AIC/BIC, θ, conditional modes) and the notes lme4 would
//! print as messages (rows dropped for missing values, aliased columns, singular fits, a fit
//! that did not converge).
//!
//! ## What `converged` means
//!
//! The optimisers work on an internal θ̃ in which each random-effects column is standardised
//! (θ̃ = s·θ, `s` its root mean square rounded to a power of two, so the map is exact), which
//! makes a fit independent of the units of the predictors: rescaling `x → k·x` gives the same
//! maximised likelihood and a θ̂ rescaled by exactly `1/k`. Results are reported in the
//! user's units with lme4's θ. At the optimum an optimiser reports, the engine runs a
//! convergence certificate on θ̃ ([`Convergence`]): on the parameters not on the boundary,
//! the Hessian must be positive definite and the Newton decrement `½ g'H⁻¹g` at most
//! 10⁻⁸·max(1, |objective|); for a λ column at zero, moving off the boundary must not lower
//! the objective. When a check fails, the engine restarts (off the boundary, the same
//! optimiser afresh, the other optimiser) before it reports. [`Fit::converged`] is true
//! exactly when the certificate passed at the reported θ̂; otherwise [`Fit::notes`] and
//! [`FitResult::message`] say which check failed.
//! print as messages (rows dropped for missing values, aliased columns, integer codes used as
//! numbers, singular fits, an optimiser that did not converge).
//!
//! ## Refitting, and working below `fit`
//!
//! [`fit`] is [`Formula::parse`] → [`ModelMatrices::build`] → [`LinearMixedModel::new`] →
//! [`LinearMixedModel::fit`]. Keep a [`LinearMixedModel`] to refit the same design by ML and
//! REML, evaluate the profiled objective at any θ, or fit from another start; build
//! [`ModelMatrices`] by hand for designs that do not come from a table.
//!
//! ## Where things are
//!
//! - [`Table`]: the input columns;
//! - formula parsing ([`Formula`]) and the model frame and matrices ([`ModelMatrices`]);
//! - the model ([`LinearMixedModel`]), its profiled objective, the blocked Cholesky factor and
//!   the optimisers (BOBYQA, projected BFGS; [`minimize_bobyqa`] is public for other
//!   bound-constrained problems);
//! - the results ([`FitResult`], [`Fit`]) and their display ([`FitSummary`], [`FitJson`]);
//! - post-fit inference ([`inference`]: Satterthwaite and Kenward–Roger df, random effects,
//!   fitted values, Wald/profile/bootstrap intervals, the parametric bootstrap, anova,
//!   predictions), starting from an [`inference::FittedModel`].
//!
//! The engine follows MixedModels.jl (Bates, Mächler, Bolker and Walker 2015, J. Stat. Softw.
//! 67(1)).

#![deny(missing_docs)]

mod design;
mod error;
mod fit;
mod formula;
mod glmm;
pub mod inference;
mod json;
mod linalg;
mod lmm;
mod normal;
mod optim;
mod options;
mod summary;
mod table;
#[cfg(test)]
mod tests;

pub use design::GlmResponse;
pub use design::{DesignError, ModelMatrices, RandomEffectsTerm};
pub use error::Error;
pub use fit::{fit, fit_with_progress, Fit};
pub use formula::{
    Argument, BinaryOp, Expr, Formula, FormulaError, Function, Grouping, RandomTerm, Term, TermSet,
    Transform,
};
pub use glmm::{Family, GeneralizedLinearMixedModel, GlmmInfo, Link, Shape};
pub use json::{CorrelationJson, FitJson, FixedJson, RandomJson};
pub use lmm::{
    ConditionalModes, Convergence, ConvergenceStatus, Criterion, FitResult, FixedEffect,
    GroupingFactor, LinearMixedModel, ModelError, Optimizer, ThetaLayout, VarianceComponent,
};
pub use normal::{erfc, two_sided_p};
pub use optim::{minimize_bobyqa, BobyqaSettings, OptimizerOutcome};
pub use options::{Contrasts, FitOptions, OptimizerChoice};
pub use summary::{aligned_table, format_p_value, format_significant, FitSummary};
pub use table::{Column, Table};
