//! [`ModelError`]: why a model could not be set up or fitted.

/// Why a model could not be set up or fitted. Every variant is reachable from user input
/// (data and formula), so each message says what is wrong in the user's terms.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The model has no random-effects terms: that is a linear model, not a mixed model.
    #[error("the model has no random-effects terms")]
    NoRandomEffects,
    /// Fewer observations than the model needs.
    #[error("{nobs} observations are too few for {what}")]
    TooFewObservations {
        /// Number of observations.
        nobs: usize,
        /// What needs more observations, e.g. "4 fixed-effects parameters".
        what: String,
    },
    /// Inconsistent dimensions in the model matrices (a bug in whoever built them).
    #[error("inconsistent model matrices: {0}")]
    Dimension(String),
    /// A NaN or infinite value in y, X or Z.
    #[error("non-finite value in {0}")]
    NonFinite(String),
    /// The θ vector passed in has the wrong length.
    #[error("theta has {got} elements, the model has {expected}")]
    ThetaLength {
        /// Length passed in.
        got: usize,
        /// Length the model needs.
        expected: usize,
    },
    /// The fixed-effects block lost positive definiteness: X is (numerically) rank deficient
    /// given the random effects, or the response is fitted exactly.
    #[error("the fixed-effects cross-product is not positive definite ({0})")]
    NotPositiveDefinite(String),
    /// The optimiser could not run (invalid settings) or never found a finite objective.
    #[error("optimiser failure: {0}")]
    Optimizer(String),
    /// The request combines things the engine does not do (e.g. post-fit inference on a
    /// GLMM); the message says what.
    #[error("{0}")]
    Unsupported(String),
}

impl ModelError {
    /// True when the data or formula caused the error (no random effects, too few
    /// observations, a non-finite value) rather than the fit itself.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            ModelError::NoRandomEffects
                | ModelError::TooFewObservations { .. }
                | ModelError::NonFinite(_)
                | ModelError::Unsupported(_)
        )
    }
}
