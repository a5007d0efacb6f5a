//! Every number the report shows, computed once and held in serialisable structs whose field
//! order is the key order of `results.json`. Floating-point values are rounded to a fixed number
//! of significant digits on the way out, so that the last-bit differences between CPUs (SIMD
//! dispatch in the linear algebra) cannot change a committed byte.

use std::path::Path;

use serde::{Deserialize, Serialize, Serializer};

use crate::io::GasolinePanel;
use crate::report::article::{ArticleError, ArticleFit, DenseRandomIntercept, NelderMeadOptions};
use crate::report::audit::{self, Audit};
use crate::report::provenance::Provenance;
use crate::report::simulation::RandomInterceptDesign;
use crate::report::study::{self, SimulationStudy, StudyError};
use lmm_engine::{Criterion, FitOptions, FitResult, LinearMixedModel, ModelError};
use lmm_engine::{DesignError, ModelMatrices};
use lmm_engine::{Formula, FormulaError};

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
    pub lme4_reml: ReferenceEstimate,
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
    /// Standard errors of β (lme4 only; empty for the article rows).
    #[serde(serialize_with = "rounded_vec")]
    pub std_errors: Vec<f64>,
    /// lme4's deviance (ML) or REML criterion; the article's function value for the article
    /// rows.
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

/// The sparse engine's fit of the gasoline model.
#[derive(Debug, Clone, Serialize)]
pub struct EngineEstimate {
    pub criterion: String,
    #[serde(serialize_with = "rounded")]
    pub sigma2: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma_b2: f64,
    #[serde(serialize_with = "rounded")]
    pub theta: f64,
    pub beta: Vec<Coefficient>,
    #[serde(serialize_with = "rounded_vec")]
    pub std_errors: Vec<f64>,
    /// Deviance (ML) or REML criterion.
    #[serde(serialize_with = "rounded")]
    pub objective: f64,
    pub evaluations: usize,
    pub converged: bool,
    pub singular: bool,
    /// Country conditional modes with their conditional standard deviations.
    pub country_effects: Vec<CountryEffect>,
    /// MixedModels.jl-style text summary.
    pub summary: String,
}

/// One country's conditional mode of the random intercept.
#[derive(Debug, Clone, Serialize)]
pub struct CountryEffect {
    pub country: String,
    #[serde(serialize_with = "rounded")]
    pub mode: f64,
    #[serde(serialize_with = "rounded")]
    pub conditional_sd: f64,
}

/// One row of the side-by-side comparison: a quantity in every estimator's column, `None`
/// where the estimator does not produce it.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    /// Markdown label.
    pub label: String,
    /// Decimals to print.
    pub decimals: usize,
    /// In [`COMPARISON_COLUMNS`] order.
    pub values: Vec<Option<Rounded>>,
    /// Agreement of each engine-or-corrected column with its lme4 counterpart, in
    /// [`AGREEMENT_PAIRS`] order.
    pub agreement: Vec<Option<Difference>>,
}

/// An `f64` that serialises rounded to [`SIGNIFICANT_DIGITS`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Rounded(#[serde(serialize_with = "rounded")] pub f64);

/// |a − b| and the number of significant digits on which a and b agree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    #[serde(serialize_with = "one_digit")]
    pub absolute: f64,
    pub digits: u32,
}

impl Difference {
    /// Compares `a` with the reference `b`. Digits are ⌊−log10(|a − b| / |b|)⌋, capped at 15.
    pub fn of(a: f64, b: f64) -> Self {
        let absolute = (a - b).abs();
        let relative = absolute / b.abs().max(f64::MIN_POSITIVE);
        let digits = if relative == 0.0 {
            15
        } else {
            (-relative.log10()).floor().clamp(0.0, 15.0) as u32
        };
        Self { absolute, digits }
    }
}

/// Column headings of the comparison table.
pub const COMPARISON_COLUMNS: [&str; 6] = [
    "article, as published",
    "article, corrected",
    "sparse engine, ML",
    "lme4, ML",
    "sparse engine, REML",
    "lme4, REML",
];

/// (estimate column, reference column) pairs of the agreement columns.
pub const AGREEMENT_PAIRS: [(usize, usize); 3] = [(1, 3), (2, 3), (4, 5)];

/// Headings of the agreement columns, in [`AGREEMENT_PAIRS`] order.
pub const AGREEMENT_COLUMNS: [&str; 3] = [
    "corrected − lme4 ML",
    "engine ML − lme4 ML",
    "engine REML − lme4 REML",
];

/// The comparison table.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub columns: Vec<String>,
    pub agreement_columns: Vec<String>,
    pub rows: Vec<ComparisonRow>,
    /// Fewest agreeing digits over every row and pair: the headline agreement.
    pub min_digits: u32,
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
    #[error("formula: {0}")]
    Formula(#[from] FormulaError),
    #[error("design: {0}")]
    Design(#[from] DesignError),
    #[error("sparse engine: {0}")]
    Engine(#[from] ModelError),
    #[error("simulation study: {0}")]
    Study(#[from] StudyError),
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
    std_error: f64,
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
                std_errors: Vec::new(),
                objective: f.objective_at_optimum,
            })
            .ok_or_else(|| missing(&article_path, &format!("logdet_weight {w}")))
    };
    let lme4_fit = |criterion: &str| -> Result<ReferenceEstimate, ResultsError> {
        let fit = lme4
            .fits
            .iter()
            .find(|f| f.id == "gasoline" && f.criterion == criterion)
            .ok_or_else(|| missing(&lme4_path, &format!("gasoline {criterion}")))?;
        let variance = |group: &str| {
            fit.random
                .iter()
                .find(|r| r.group == group)
                .map(|r| r.vcov)
                .ok_or_else(|| missing(&lme4_path, &format!("{group} variance")))
        };
        Ok(ReferenceEstimate {
            sigma2: variance("Residual")?,
            sigma_b2: variance("Country")?,
            beta: fit.fixed.iter().map(|f| f.estimate).collect(),
            std_errors: fit.fixed.iter().map(|f| f.std_error).collect(),
            objective: fit.objective,
        })
    };
    Ok(References {
        article_published: article_fit(2)?,
        article_corrected: article_fit(1)?,
        lme4_ml: lme4_fit("ML")?,
        lme4_reml: lme4_fit("REML")?,
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

/// The article's dense problem for the gasoline panel.
pub fn gasoline_dense(panel: &GasolinePanel) -> Result<DenseRandomIntercept, ArticleError> {
    let x: Vec<Vec<f64>> = panel.fixed_design().iter().map(|r| r.to_vec()).collect();
    DenseRandomIntercept::new(
        &x,
        &panel.country_index,
        panel.countries.len(),
        &panel.lcarpcap,
    )
}

/// Fits the gasoline model with both objectives.
pub fn fit_article_variants(panel: &GasolinePanel) -> Result<[ArticleFit; 2], ArticleError> {
    gasoline_dense(panel)?.fit_both(NelderMeadOptions::default())
}

/// The gasoline model's matrices for the sparse engine, from the lme4 formula.
pub fn gasoline_matrices(panel: &GasolinePanel) -> Result<ModelMatrices, ResultsError> {
    let formula = Formula::parse(GASOLINE_FORMULA)?;
    Ok(ModelMatrices::build(&formula, &panel.to_table())?)
}

fn engine_estimate(fit: &FitResult) -> EngineEstimate {
    let effects = &fit.random_effects[0];
    EngineEstimate {
        criterion: match fit.criterion {
            Criterion::Ml => "ML",
            Criterion::Reml => "REML",
        }
        .to_owned(),
        sigma2: fit.sigma.powi(2),
        sigma_b2: fit.variance_components[0].variances[0],
        theta: fit.theta[0],
        beta: fit
            .fixed
            .iter()
            .map(|f| Coefficient {
                name: f.name.clone(),
                estimate: f.estimate,
            })
            .collect(),
        std_errors: fit.std_errors(),
        objective: fit.objective,
        evaluations: fit.evaluations,
        converged: fit.converged,
        singular: fit.singular,
        country_effects: effects
            .levels
            .iter()
            .enumerate()
            .map(|(l, country)| CountryEffect {
                country: country.clone(),
                mode: effects.mode(l, 0),
                conditional_sd: effects.sd(l, 0),
            })
            .collect(),
        summary: fit.summary(GASOLINE_FORMULA).to_string(),
    }
}

/// Fits the gasoline model with the sparse engine by ML and REML.
pub fn fit_engine(matrices: &ModelMatrices) -> Result<[FitResult; 2], ModelError> {
    let mut model = LinearMixedModel::new(matrices)?;
    let options = FitOptions::default();
    Ok([
        model.fit(&options.clone().with_criterion(Criterion::Ml))?,
        model.fit(&options.with_criterion(Criterion::Reml))?,
    ])
}

/// Nonzeros of the lower Cholesky factor of the penalised system of a model with one scalar
/// random-effects term, at relative standard deviation `theta`, in the order (u, β).
pub fn factor_pattern(matrices: &ModelMatrices, theta: f64) -> (usize, Vec<(usize, usize)>) {
    let term = &matrices.terms[0];
    let (n, q, p) = (matrices.nobs(), term.nlevels(), matrices.x.ncols());
    let d = faer::Mat::from_fn(n, q + p, |i, j| {
        if j < q {
            if term.refs[i] as usize == j {
                theta * term.z[i]
            } else {
                0.0
            }
        } else {
            matrices.x[(i, j - q)]
        }
    });
    let mut a = d.transpose() * &d;
    for j in 0..q {
        a[(j, j)] += 1.0;
    }
    let pattern = match a.llt(faer::Side::Lower) {
        Ok(llt) => {
            let l = llt.L();
            let scale = (0..q + p).map(|j| l[(j, j)].abs()).fold(0.0, f64::max);
            (0..q + p)
                .flat_map(|i| (0..=i).map(move |j| (i, j)))
                .filter(|&(i, j)| l[(i, j)].abs() > 1e-12 * scale)
                .collect()
        }
        Err(_) => Vec::new(),
    };
    (q + p, pattern)
}

fn comparison(
    article: &[ArticleEstimate],
    engine: &[EngineEstimate],
    refs: &References,
) -> Comparison {
    let (pubd, cor) = (&article[0], &article[1]);
    let (ml, reml) = (&engine[0], &engine[1]);
    let (lml, lreml) = (&refs.lme4_ml, &refs.lme4_reml);
    let some = |v: f64| Some(Rounded(v));
    let mut rows: Vec<(String, usize, Vec<Option<Rounded>>)> = vec![
        (
            "$\\sigma^2$".into(),
            6,
            vec![
                some(pubd.sigma2),
                some(cor.sigma2),
                some(ml.sigma2),
                some(lml.sigma2),
                some(reml.sigma2),
                some(lreml.sigma2),
            ],
        ),
        (
            "$\\sigma_b^2$".into(),
            4,
            vec![
                some(pubd.sigma_b2),
                some(cor.sigma_b2),
                some(ml.sigma_b2),
                some(lml.sigma_b2),
                some(reml.sigma_b2),
                some(lreml.sigma_b2),
            ],
        ),
        (
            "$\\sigma$".into(),
            5,
            vec![
                some(pubd.sigma),
                some(cor.sigma),
                some(ml.sigma2.sqrt()),
                some(lml.sigma2.sqrt()),
                some(reml.sigma2.sqrt()),
                some(lreml.sigma2.sqrt()),
            ],
        ),
        (
            "$\\sigma_b$".into(),
            4,
            vec![
                some(pubd.sigma_b),
                some(cor.sigma_b),
                some(ml.sigma_b2.sqrt()),
                some(lml.sigma_b2.sqrt()),
                some(reml.sigma_b2.sqrt()),
                some(lreml.sigma_b2.sqrt()),
            ],
        ),
    ];
    for (i, name) in FIXED_NAMES.iter().enumerate() {
        rows.push((
            format!("$\\beta$ `{name}`"),
            5,
            vec![
                some(pubd.beta[i].estimate),
                some(cor.beta[i].estimate),
                some(ml.beta[i].estimate),
                some(lml.beta[i]),
                some(reml.beta[i].estimate),
                some(lreml.beta[i]),
            ],
        ));
        rows.push((
            format!("std. error `{name}`"),
            5,
            vec![
                None,
                None,
                some(ml.std_errors[i]),
                some(lml.std_errors[i]),
                some(reml.std_errors[i]),
                some(lreml.std_errors[i]),
            ],
        ));
    }
    rows.push((
        "$-2\\log L$ (ML) / REML criterion".into(),
        3,
        vec![
            some(pubd.deviance),
            some(cor.deviance),
            some(ml.objective),
            some(lml.objective),
            some(reml.objective),
            some(lreml.objective),
        ],
    ));
    let rows: Vec<ComparisonRow> = rows
        .into_iter()
        .map(|(label, decimals, values)| {
            let agreement = AGREEMENT_PAIRS
                .iter()
                .map(|&(a, b)| match (values[a], values[b]) {
                    (Some(x), Some(y)) => Some(Difference::of(x.0, y.0)),
                    _ => None,
                })
                .collect();
            ComparisonRow {
                label,
                decimals,
                values,
                agreement,
            }
        })
        .collect();
    let min_digits = rows
        .iter()
        .flat_map(|r| r.agreement.iter().flatten())
        .map(|d| d.digits)
        .min()
        .unwrap_or(0);
    Comparison {
        columns: COMPARISON_COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
        agreement_columns: AGREEMENT_COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
        rows,
        min_digits,
    }
}

/// Runs the article's simulation check with both objectives.
pub fn simulation_check(seed: u64) -> Result<SimulationCheck, ArticleError> {
    let design = RandomInterceptDesign::ARTICLE;
    let data = design.simulate(seed);
    let model = DenseRandomIntercept::new(&data.x, &data.group, design.groups, &data.y)?;
    let [published, corrected] = model.fit_both(NelderMeadOptions::default())?;
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
    data_bytes: &[u8],
    references: References,
) -> Result<Results, ResultsError> {
    let dense = gasoline_dense(panel)?;
    let fits = dense.fit_both(NelderMeadOptions::default())?;
    let article: Vec<ArticleEstimate> = fits.iter().map(ArticleEstimate::from_fit).collect();
    let matrices = gasoline_matrices(panel)?;
    let engine_fits = fit_engine(&matrices)?;
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
    let term = &matrices.terms[0];
    let (factor_order, factor_pattern) = factor_pattern(&matrices, engine_fits[0].theta[0]);
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
        provenance: crate::report::provenance::provenance(data_file, data_bytes),
        figures,
    })
}
