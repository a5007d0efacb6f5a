//! Every number the report shows, computed once and held in serialisable structs whose field
//! order is the key order of `results.json`. Floating-point values are rounded to a fixed number
//! of significant digits on the way out, so that the last-bit differences between CPUs (SIMD
//! dispatch in the linear algebra) cannot change a committed byte.

use std::path::Path;

use serde::{Deserialize, Serialize, Serializer};

use crate::article::{
    ArticleError, ArticleFit, DenseRandomIntercept, LogDetWeight, NelderMeadOptions,
};
use crate::data::GasolinePanel;
use crate::simulate::RandomInterceptDesign;

/// Significant digits kept for every float in `results.json`. Nelder–Mead stops at a relative
/// objective spread of about 1e-15, which pins the gasoline parameters to about 1e-7 (the
/// measured distance to the recorded optimum); six digits leave a margin so that a different
/// rounding in the last bits of a platform's linear algebra cannot show.
pub const SIGNIFICANT_DIGITS: usize = 6;

/// Digits for the simulation's variance estimates: σ_b² rests on 100 group effects, the
/// objective is flat along it, and the optimiser's stopping point moves it at the 1e-6 level.
pub const SIMULATION_DIGITS: usize = 5;

/// Rounds `x` to `digits` significant digits (through decimal formatting, so the result prints
/// the same everywhere).
pub fn round_sig(x: f64, digits: usize) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let text = format!("{:.*e}", digits.saturating_sub(1), x);
    let rounded: f64 = text.parse().unwrap_or(x);
    if rounded == 0.0 {
        0.0 // no negative zero in the output
    } else {
        rounded
    }
}

/// Serialises an `f64` rounded to [`SIGNIFICANT_DIGITS`].
pub fn rounded<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round_sig(*x, SIGNIFICANT_DIGITS))
}

/// Serialises a slice of `f64` rounded to [`SIGNIFICANT_DIGITS`].
pub fn rounded_vec<S: Serializer>(xs: &[f64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(xs.iter().map(|x| round_sig(*x, SIGNIFICANT_DIGITS)))
}

/// Serialises an `f64` rounded to one significant digit.
pub fn one_digit<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round_sig(*x, 1))
}

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
    pub country_names: Vec<String>,
}

/// One run of the article's dense estimator.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleEstimate {
    pub variant: String,
    pub logdet_weight: u8,
    #[serde(serialize_with = "rounded")]
    pub sigma2: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma_b2: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma_b: f64,
    pub beta: Vec<Coefficient>,
    /// The minimised function's value (the article's constant).
    #[serde(serialize_with = "rounded")]
    pub objective: f64,
    /// The true marginal deviance at the estimate.
    #[serde(serialize_with = "rounded")]
    pub deviance: f64,
    pub iterations: u64,
    pub evaluations: u64,
    pub termination: String,
    pub converged: bool,
}

impl ArticleEstimate {
    fn from_fit(fit: &ArticleFit) -> Self {
        Self {
            variant: fit.weight.label().to_owned(),
            logdet_weight: fit.weight.weight() as u8,
            sigma2: fit.sigma * fit.sigma,
            sigma_b2: fit.sigma_b * fit.sigma_b,
            sigma: fit.sigma,
            sigma_b: fit.sigma_b,
            beta: FIXED_NAMES
                .iter()
                .zip(&fit.beta)
                .map(|(name, &estimate)| Coefficient {
                    name: (*name).to_owned(),
                    estimate,
                })
                .collect(),
            objective: fit.objective,
            deviance: fit.deviance,
            iterations: fit.optimiser.iterations,
            evaluations: fit.optimiser.evaluations,
            termination: fit.optimiser.termination.clone(),
            converged: fit.optimiser.converged,
        }
    }
}

/// Recorded reference values (never recomputed here), as shipped in `data/reference/`.
#[derive(Debug, Clone, Serialize)]
pub struct References {
    pub article_published: ReferenceEstimate,
    pub article_corrected: ReferenceEstimate,
    pub lme4_ml: ReferenceEstimate,
    pub lme4_source: String,
}

/// A reference estimate of the gasoline model.
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceEstimate {
    #[serde(serialize_with = "rounded")]
    pub sigma2: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma_b2: f64,
    #[serde(serialize_with = "rounded_vec")]
    pub beta: Vec<f64>,
    /// lme4's deviance for the lme4 row; the article's function value for the article rows.
    #[serde(serialize_with = "rounded")]
    pub objective: f64,
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

/// The article's simulation check, both objectives on one seeded data set.
#[derive(Debug, Clone, Serialize)]
pub struct SimulationCheck {
    pub design: RandomInterceptDesign,
    pub seed: u64,
    pub nobs: usize,
    pub truth: [f64; 2],
    pub published: [f64; 2],
    pub corrected: [f64; 2],
    pub published_evaluations: u64,
    pub corrected_evaluations: u64,
}

/// Everything in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub data: DataSummary,
    pub formula: String,
    pub article: Vec<ArticleEstimate>,
    pub references: References,
    pub agreement: Vec<Agreement>,
    pub simulation: SimulationCheck,
}

/// Why the results could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("reference file {path}: {message}")]
    Reference { path: String, message: String },
    #[error("article estimator: {0}")]
    Article(#[from] ArticleError),
}

/// The seed of the simulation check; any fixed value would do.
pub const SIMULATION_SEED: u64 = 20211201;

#[derive(Deserialize)]
struct ArticleReferenceFile {
    fits: Vec<ArticleReferenceFit>,
}

#[derive(Deserialize)]
struct ArticleReferenceFit {
    logdet_weight: u8,
    sigma2: f64,
    sigma_b2: f64,
    beta: Vec<f64>,
    objective_at_optimum: f64,
}

#[derive(Deserialize)]
struct Lme4File {
    source: String,
    fits: Vec<Lme4Fit>,
}

#[derive(Deserialize)]
struct Lme4Fit {
    id: String,
    criterion: String,
    objective: f64,
    fixed: Vec<Lme4Fixed>,
    random: Vec<Lme4Random>,
}

#[derive(Deserialize)]
struct Lme4Fixed {
    estimate: f64,
}

#[derive(Deserialize)]
struct Lme4Random {
    group: String,
    vcov: f64,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ResultsError> {
    let err = |message: String| ResultsError::Reference {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| err(e.to_string()))
}

/// Loads the recorded reference values from `dir` (`article_estimator.json`, `lme4.json`).
pub fn load_references(dir: &Path) -> Result<References, ResultsError> {
    let article_path = dir.join("article_estimator.json");
    let lme4_path = dir.join("lme4.json");
    let article: ArticleReferenceFile = read_json(&article_path)?;
    let lme4: Lme4File = read_json(&lme4_path)?;
    let missing = |path: &Path, what: &str| ResultsError::Reference {
        path: path.display().to_string(),
        message: format!("no {what} entry"),
    };
    let article_fit = |w: u8| {
        article
            .fits
            .iter()
            .find(|f| f.logdet_weight == w)
            .map(|f| ReferenceEstimate {
                sigma2: f.sigma2,
                sigma_b2: f.sigma_b2,
                beta: f.beta.clone(),
                objective: f.objective_at_optimum,
            })
            .ok_or_else(|| missing(&article_path, &format!("logdet_weight {w}")))
    };
    let ml = lme4
        .fits
        .iter()
        .find(|f| f.id == "gasoline" && f.criterion == "ML")
        .ok_or_else(|| missing(&lme4_path, "gasoline ML"))?;
    let variance = |group: &str| {
        ml.random
            .iter()
            .find(|r| r.group == group)
            .map(|r| r.vcov)
            .ok_or_else(|| missing(&lme4_path, &format!("{group} variance")))
    };
    Ok(References {
        article_published: article_fit(2)?,
        article_corrected: article_fit(1)?,
        lme4_ml: ReferenceEstimate {
            sigma2: variance("Residual")?,
            sigma_b2: variance("Country")?,
            beta: ml.fixed.iter().map(|f| f.estimate).collect(),
            objective: ml.objective,
        },
        lme4_source: lme4.source,
    })
}

/// Largest relative difference over σ², σ_b² and β.
pub fn max_relative_difference(estimate: &ArticleEstimate, reference: &ReferenceEstimate) -> f64 {
    let rel = |a: f64, b: f64| ((a - b) / b).abs();
    estimate
        .beta
        .iter()
        .zip(&reference.beta)
        .map(|(c, &r)| rel(c.estimate, r))
        .chain([
            rel(estimate.sigma2, reference.sigma2),
            rel(estimate.sigma_b2, reference.sigma_b2),
        ])
        .fold(0.0, f64::max)
}

/// Fits the gasoline model with both objectives.
pub fn fit_article_variants(panel: &GasolinePanel) -> Result<[ArticleFit; 2], ArticleError> {
    let x: Vec<Vec<f64>> = panel.fixed_design().iter().map(|r| r.to_vec()).collect();
    let model = DenseRandomIntercept::new(
        &x,
        &panel.country_index,
        panel.countries.len(),
        &panel.lcarpcap,
    )?;
    let options = NelderMeadOptions::default();
    Ok([
        model.fit(LogDetWeight::AsPublished, options)?,
        model.fit(LogDetWeight::Corrected, options)?,
    ])
}

/// Runs the article's simulation check with both objectives.
pub fn simulation_check(seed: u64) -> Result<SimulationCheck, ArticleError> {
    let design = RandomInterceptDesign::ARTICLE;
    let data = design.simulate(seed);
    let model = DenseRandomIntercept::new(&data.x, &data.group, design.groups, &data.y)?;
    let options = NelderMeadOptions::default();
    let published = model.fit(LogDetWeight::AsPublished, options)?;
    let corrected = model.fit(LogDetWeight::Corrected, options)?;
    let variances = |f: &ArticleFit| {
        [
            round_sig(f.sigma * f.sigma, SIMULATION_DIGITS),
            round_sig(f.sigma_b * f.sigma_b, SIMULATION_DIGITS),
        ]
    };
    Ok(SimulationCheck {
        design,
        seed,
        nobs: design.nobs(),
        truth: [design.sigma2, design.sigma_b2],
        published: variances(&published),
        corrected: variances(&corrected),
        published_evaluations: published.optimiser.evaluations,
        corrected_evaluations: corrected.optimiser.evaluations,
    })
}

/// Computes everything the report shows.
pub fn compute(
    panel: &GasolinePanel,
    data_file: &str,
    references: References,
) -> Result<Results, ResultsError> {
    let fits = fit_article_variants(panel)?;
    let article: Vec<ArticleEstimate> = fits.iter().map(ArticleEstimate::from_fit).collect();
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
    let years: Vec<i64> = panel.year.iter().map(|y| y.round() as i64).collect();
    Ok(Results {
        data: DataSummary {
            file: data_file.to_owned(),
            rows: panel.nrows(),
            countries: panel.countries.len(),
            years_per_country: panel.nrows() / panel.countries.len().max(1),
            first_year: years.iter().copied().min().unwrap_or(0),
            last_year: years.iter().copied().max().unwrap_or(0),
            country_names: panel.countries.clone(),
        },
        formula: "LCarPCap ~ 1 + Time + LIncomeP + LRPMG + (1|Country)".into(),
        article,
        references,
        agreement,
        simulation: simulation_check(SIMULATION_SEED)?,
    })
}
