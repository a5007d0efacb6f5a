//! Every number the report shows, computed once and held in serialisable structs whose field
//! order is the key order of `results.json`. Floating-point values are rounded to a fixed number
//! of significant digits on the way out, so that the last-bit differences between CPUs (SIMD
//! dispatch in the linear algebra) cannot change a committed byte.

//!
//! One concern per file: [`references`] (recorded values), [`article_fits`] (the
//! post's estimator), [`engine_fits`] (the sparse engine), [`comparison`] (the side-by-side
//! table); this file holds the top-level [`Results`] and [`compute`].

mod article_fits;
mod comparison;
mod engine_fits;
mod references;

use serde::Serialize;

use crate::io::{GasolinePanel, TIME_ORIGIN};
use crate::report::article::{ArticleError, NelderMeadOptions};
use crate::report::audit::{self, Audit};
use crate::report::bayes::{self, BayesError, GibbsConfig, Posterior};
use crate::report::influence::{self, FullFit, Influence, InfluenceError};
use crate::report::provenance::Provenance;
use crate::report::simulation::RandomInterceptDesign;
use crate::report::slopes::{self, RandomSlopes};
use crate::report::study::{self, SimulationStudy, StudyError};

pub use crate::report::rounding::{
    one_digit, round_sig, rounded, rounded_vec, SIGNIFICANT_DIGITS, SIMULATION_DIGITS,
};
pub use article_fits::{
    fit_article_variants, gasoline_dense, simulation_check, ArticleEstimate, SimulationCheck,
};
use comparison::comparison;
pub use comparison::{
    Comparison, ComparisonRow, Difference, Rounded, AGREEMENT_COLUMNS, AGREEMENT_PAIRS,
    COMPARISON_COLUMNS,
};
pub use engine_fits::{
    engine_estimate, factor_pattern, fit_engine, gasoline_matrices, CountryEffect, EngineEstimate,
};
pub use references::{load_references, max_relative_difference, ReferenceEstimate, References};

/// A named coefficient.
#[derive(Debug, Clone, Serialize)]
pub struct Coefficient {
    pub name: String,
    #[serde(serialize_with = "rounded")]
    pub estimate: f64,
}

/// Names of the article's fixed effects, in design order.
pub const FIXED_NAMES: [&str; 4] = ["(Intercept)", "Time", "LIncomeP", "LRPMG"];

/// What the report says about the data.
#[derive(Debug, Clone, Serialize)]
pub struct DataSummary {
    pub file: String,
    pub rows: usize,
    pub countries: usize,
    pub years_per_country: usize,
    pub first_year: i64,
    pub last_year: i64,
    /// The year where `Time = 0` (the article's centring).
    pub time_origin: i64,
    /// Observed ranges `[min, max]` of the covariates and the response.
    #[serde(serialize_with = "rounded_vec")]
    pub lincomep_range: Vec<f64>,
    #[serde(serialize_with = "rounded_vec")]
    pub lrpmg_range: Vec<f64>,
    #[serde(serialize_with = "rounded_vec")]
    pub lcarpcap_range: Vec<f64>,
    pub country_names: Vec<String>,
}

/// Relative differences of one estimate against a reference, for the agreement table.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub estimate: String,
    pub reference: String,
    /// max over σ², σ_b², β of |estimate − reference| / |reference|, to one significant digit
    /// (its leading digit is all that is stable across platforms at the 1e-7 level).
    #[serde(serialize_with = "one_digit")]
    pub max_relative_difference: f64,
}

/// Everything in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub data: DataSummary,
    pub formula: String,
    pub article: Vec<ArticleEstimate>,
    pub engine: Vec<EngineEstimate>,
    pub references: References,
    pub agreement: Vec<Agreement>,
    pub comparison: Comparison,
    pub audit: Audit,
    pub simulation: SimulationCheck,
    pub study: SimulationStudy,
    pub influence: Influence,
    pub random_slopes: RandomSlopes,
    pub bayes: Posterior,
    pub provenance: Provenance,
    /// Figure data that is not part of `results.json`.
    #[serde(skip)]
    pub figures: FigureData,
}

/// Inputs of the figures that go beyond the panel itself.
#[derive(Debug, Clone, Default)]
pub struct FigureData {
    /// Structural nonzeros of Z (rows × countries).
    pub z_pattern: Vec<(usize, usize)>,
    /// Structural nonzeros of the Cholesky factor of the full penalised system
    /// [[Λ'Z'ZΛ + I, Λ'Z'X], [X'ZΛ, X'X]] at the ML estimate, and its order.
    pub factor_pattern: Vec<(usize, usize)>,
    pub factor_order: usize,
}

/// Why the results could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("reference file {path}: {message}")]
    Reference { path: String, message: String },
    #[error("article estimator: {0}")]
    Article(#[from] ArticleError),
    #[error("sparse engine: {0}")]
    Engine(#[from] lmm_engine::Error),
    #[error("simulation study: {0}")]
    Study(#[from] StudyError),
    #[error("Bayesian fit: {0}")]
    Bayes(#[from] BayesError),
    #[error("influence analysis: {0}")]
    Influence(#[from] InfluenceError),
    #[error("time random effect: {0}")]
    Slopes(#[from] crate::report::slopes::SlopesError),
}

/// The gasoline model in lme4 syntax.
pub const GASOLINE_FORMULA: &str = "LCarPCap ~ 1 + Time + LIncomeP + LRPMG + (1|Country)";

/// Replicates of the simulation study: enough for the published objective's bias in σ²
/// (about 3%) to stand several standard errors clear of zero, few enough to run in seconds.
pub const STUDY_REPLICATES: usize = 50;

/// First seed of the study (seeds are consecutive).
pub const STUDY_FIRST_SEED: u64 = 1;

/// The seed of the simulation check; any fixed value would do.
pub const SIMULATION_SEED: u64 = 20211201;

/// `[min, max]` of finite values (empty for none).
fn range(values: &[f64]) -> Vec<f64> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    match finite.clone().reduce(f64::min).zip(finite.reduce(f64::max)) {
        Some((lo, hi)) => vec![lo, hi],
        None => Vec::new(),
    }
}

/// Computes everything the report shows.
pub fn compute(
    panel: &GasolinePanel,
    data_file: &str,
    data_bytes: &[u8],
    references: References,
) -> Result<Results, ResultsError> {
    let dense = gasoline_dense(panel)?;
    let fits = dense.fit_both(NelderMeadOptions::default())?;
    let article: Vec<ArticleEstimate> = fits.iter().map(ArticleEstimate::from_fit).collect();
    let matrices = gasoline_matrices(panel)?;
    let engine_fits = fit_engine(panel)?;
    let engine: Vec<EngineEstimate> = engine_fits.iter().map(engine_estimate).collect();
    let agreement = vec![
        Agreement {
            estimate: "as published".into(),
            reference: "article optimum, as published".into(),
            max_relative_difference: max_relative_difference(
                &article[0],
                &references.article_published,
            ),
        },
        Agreement {
            estimate: "corrected".into(),
            reference: "article optimum, corrected".into(),
            max_relative_difference: max_relative_difference(
                &article[1],
                &references.article_corrected,
            ),
        },
        Agreement {
            estimate: "corrected".into(),
            reference: "lme4 ML".into(),
            max_relative_difference: max_relative_difference(&article[1], &references.lme4_ml),
        },
        Agreement {
            estimate: "as published".into(),
            reference: "lme4 ML".into(),
            max_relative_difference: max_relative_difference(&article[0], &references.lme4_ml),
        },
    ];
    let comparison = comparison(&article, &engine, &references);
    let audit = audit::run(&dense, &fits[0], &fits[1])?;
    let study = study::run(
        RandomInterceptDesign::ARTICLE,
        STUDY_REPLICATES,
        STUDY_FIRST_SEED,
    )?;
    let ml = &engine_fits[0];
    let effects = &ml.conditional_modes()[0];
    let modes: Vec<f64> = panel
        .countries
        .iter()
        .map(|c| {
            effects
                .levels
                .iter()
                .position(|l| l == c)
                .map_or(f64::NAN, |l| effects.mode(l, 0))
        })
        .collect();
    let influence = influence::run(
        panel,
        GASOLINE_FORMULA,
        FullFit {
            sigma_b2: ml.variance_components()[0].variances[0],
            beta: &ml.beta(),
            std_errors: &ml.std_errors(),
            modes: &modes,
        },
    )?;
    let term = &matrices.terms[0];
    let (factor_order, factor_pattern) = factor_pattern(&matrices, engine_fits[0].theta()[0]);
    let figures = FigureData {
        z_pattern: term
            .refs
            .iter()
            .enumerate()
            .map(|(i, &l)| (i, l as usize))
            .collect(),
        factor_pattern,
        factor_order,
    };
    let years: Vec<i64> = panel.year.iter().map(|y| y.round() as i64).collect();
    Ok(Results {
        data: DataSummary {
            file: data_file.to_owned(),
            rows: panel.nrows(),
            countries: panel.countries.len(),
            years_per_country: panel.nrows() / panel.countries.len().max(1),
            first_year: years.iter().copied().min().unwrap_or(0),
            last_year: years.iter().copied().max().unwrap_or(0),
            // Lossless: the origin is a whole year.
            time_origin: TIME_ORIGIN as i64,
            lincomep_range: range(&panel.lincomep),
            lrpmg_range: range(&panel.lrpmg),
            lcarpcap_range: range(&panel.lcarpcap),
            country_names: panel.countries.clone(),
        },
        formula: GASOLINE_FORMULA.into(),
        article,
        engine,
        references,
        agreement,
        comparison,
        audit,
        simulation: simulation_check(SIMULATION_SEED)?,
        study,
        influence,
        random_slopes: slopes::run(panel)?,
        bayes: bayes::run(panel, &GibbsConfig::default())?,
        provenance: crate::report::provenance::provenance(data_file, data_bytes),
        figures,
    })
}
