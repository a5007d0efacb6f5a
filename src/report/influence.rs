//! Leave-one-country-out influence: the gasoline model refitted 18 times, each time without one
//! country, by the article's corrected estimator and by the engine (ML), to show how much each
//! country moves σ², σ_b² and each β. Refits are independent and run in parallel, collected in
//! country order, so the result does not depend on the thread count.

use rayon::prelude::*;
use serde::Serialize;

use crate::io::GasolinePanel;
use crate::report::article::{ArticleError, DenseRandomIntercept, LogDetWeight, NelderMeadOptions};
use crate::report::rounding::{rounded, rounded_vec};
use lmm_engine::{Column, Criterion, FitOptions, Table};

/// Why a refit failed.
#[derive(Debug, thiserror::Error)]
pub enum InfluenceError {
    /// The article's estimator failed without `country`.
    #[error("without {country}: article estimator: {source}")]
    Article {
        /// The country left out.
        country: String,
        #[source]
        source: ArticleError,
    },
    /// The engine failed without `country`.
    #[error("without {country}: engine: {source}")]
    Engine {
        /// The country left out.
        country: String,
        #[source]
        source: lmm_engine::Error,
    },
}

/// One estimator's estimates on a subset of the panel.
#[derive(Debug, Clone, Serialize)]
pub struct Estimates {
    #[serde(serialize_with = "rounded")]
    pub sigma2: f64,
    #[serde(serialize_with = "rounded")]
    pub sigma_b2: f64,
    /// β in the order (Intercept), Time, LIncomeP, LRPMG.
    #[serde(serialize_with = "rounded_vec")]
    pub beta: Vec<f64>,
}

/// The refits without one country.
#[derive(Debug, Clone, Serialize)]
pub struct Refit {
    /// The country left out.
    pub country: String,
    /// Its mean `LIncomeP` over the period.
    #[serde(serialize_with = "rounded")]
    pub mean_lincomep: f64,
    /// Its conditional mode in the full-data ML fit, in units of σ̂_b.
    #[serde(serialize_with = "rounded")]
    pub mode_in_sd: f64,
    pub corrected: Estimates,
    pub engine: Estimates,
    /// σ̂_b² without this country over σ̂_b² with all countries.
    #[serde(serialize_with = "rounded")]
    pub sigma_b2_ratio: f64,
    /// Change in the LIncomeP slope, in units of its full-data standard error.
    #[serde(serialize_with = "rounded")]
    pub lincomep_shift_in_se: f64,
    /// Change in the LRPMG slope, in units of its full-data standard error.
    #[serde(serialize_with = "rounded")]
    pub lrpmg_shift_in_se: f64,
}

/// The whole leave-one-out analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Influence {
    /// One refit per country, in the panel's country order.
    pub refits: Vec<Refit>,
    /// Largest relative difference between the corrected estimator and the engine over every
    /// refit and quantity: both maximise the same likelihood.
    #[serde(serialize_with = "rounded")]
    pub estimator_agreement: f64,
    /// Index into `refits` of the country whose removal moves σ̂_b² most.
    pub most_influential: usize,
    /// The second most influential country for σ̂_b².
    pub runner_up: usize,
    /// Index of the country with the lowest mean `LIncomeP`.
    pub lowest_income: usize,
    /// Between-country correlation of mean `LCarPCap` and mean `LIncomeP` (figure 2, left),
    /// with every country and without the most influential one.
    #[serde(serialize_with = "rounded")]
    pub between_correlation: f64,
    #[serde(serialize_with = "rounded")]
    pub between_correlation_without: f64,
    /// Rank (1 = highest) of the most influential country's mean `LCarPCap`, and of the
    /// lowest-income country's.
    pub cars_rank_of_most_influential: usize,
    pub cars_rank_of_lowest_income: usize,
    /// Index of the refit that moves the LIncomeP slope most (in standard errors), and of the
    /// one that moves the LRPMG slope most.
    pub largest_lincomep_shift: usize,
    pub largest_lrpmg_shift: usize,
}

/// Index of the largest `|key|`, first on ties.
fn argmax_abs(refits: &[Refit], key: impl Fn(&Refit) -> f64) -> usize {
    (0..refits.len())
        .rev()
        .max_by(|&a, &b| key(&refits[a]).abs().total_cmp(&key(&refits[b]).abs()))
        .unwrap_or(0)
}

/// Pearson correlation of the pairs, NaN for fewer than two.
fn correlation(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / n, b + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for &(x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    sxy / (sxx * syy).sqrt()
}

/// The full-data ML facts the analysis is measured against.
#[derive(Debug, Clone, Copy)]
pub struct FullFit<'a> {
    pub sigma_b2: f64,
    /// β̂ and standard errors in the order (Intercept), Time, LIncomeP, LRPMG.
    pub beta: &'a [f64],
    pub std_errors: &'a [f64],
    /// Conditional modes in the panel's country order.
    pub modes: &'a [f64],
}

/// The panel without country `c`: row-major fixed design, group indices renumbered 0..m-1,
/// response, and the same rows as a table for the engine.
fn without(panel: &GasolinePanel, c: usize) -> (Vec<Vec<f64>>, Vec<usize>, Vec<f64>, Table) {
    let rows: Vec<usize> = (0..panel.nrows())
        .filter(|&i| panel.country_index[i] != c)
        .collect();
    let design = panel.fixed_design();
    let x = rows.iter().map(|&i| design[i].to_vec()).collect();
    let group = rows
        .iter()
        .map(|&i| panel.country_index[i] - usize::from(panel.country_index[i] > c))
        .collect();
    let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let y = pick(&panel.lcarpcap);
    let num = |v: Vec<f64>| Column::Numeric(v.into_iter().map(Some).collect());
    let table = Table::new()
        .with("LCarPCap", num(y.clone()))
        .with("Time", num(pick(&panel.time)))
        .with("LIncomeP", num(pick(&panel.lincomep)))
        .with("LRPMG", num(pick(&panel.lrpmg)))
        .with(
            "Country",
            Column::Text(
                rows.iter()
                    .map(|&i| Some(panel.country[i].clone()))
                    .collect(),
            ),
        );
    (x, group, y, table)
}

/// Refits the model without each country in turn.
pub fn run(
    panel: &GasolinePanel,
    formula: &str,
    full: FullFit<'_>,
) -> Result<Influence, InfluenceError> {
    let m = panel.countries.len();
    let refits = (0..m)
        .into_par_iter()
        .map(|c| {
            let country = panel.countries[c].clone();
            let (x, group, y, table) = without(panel, c);
            let article = |source| InfluenceError::Article {
                country: country.clone(),
                source,
            };
            let dense = DenseRandomIntercept::new(&x, &group, m - 1, &y).map_err(article)?;
            let fit = dense
                .fit(LogDetWeight::Corrected, NelderMeadOptions::default())
                .map_err(article)?;
            let corrected = Estimates {
                sigma2: fit.sigma.powi(2),
                sigma_b2: fit.sigma_b.powi(2),
                beta: fit.beta.clone(),
            };
            let options = FitOptions::default().with_criterion(Criterion::Ml);
            let engine_fit = lmm_engine::fit(formula, &table, &options).map_err(|source| {
                InfluenceError::Engine {
                    country: country.clone(),
                    source,
                }
            })?;
            let engine = Estimates {
                sigma2: engine_fit.sigma().powi(2),
                sigma_b2: engine_fit.variance_components()[0].variances[0],
                beta: engine_fit.beta(),
            };
            let mean_lincomep = panel.country_means[c].lincomep;
            Ok(Refit {
                country,
                mean_lincomep,
                mode_in_sd: full.modes[c] / full.sigma_b2.sqrt(),
                sigma_b2_ratio: engine.sigma_b2 / full.sigma_b2,
                lincomep_shift_in_se: (engine.beta[2] - full.beta[2]) / full.std_errors[2],
                lrpmg_shift_in_se: (engine.beta[3] - full.beta[3]) / full.std_errors[3],
                corrected,
                engine,
            })
        })
        .collect::<Result<Vec<Refit>, InfluenceError>>()?;
    let rel = |a: f64, b: f64| ((a - b) / b).abs();
    let estimator_agreement = refits
        .iter()
        .flat_map(|r| {
            let (c, e) = (&r.corrected, &r.engine);
            [rel(c.sigma2, e.sigma2), rel(c.sigma_b2, e.sigma_b2)]
                .into_iter()
                .chain(c.beta.iter().zip(&e.beta).map(|(a, b)| rel(*a, *b)))
                .collect::<Vec<_>>()
        })
        .fold(0.0, f64::max);
    let mut by_shift: Vec<usize> = (0..m).collect();
    // Stable, NaN-safe: the largest move of σ̂_b² (in either direction, on the log scale) first.
    by_shift.sort_by(|&a, &b| {
        let shift = |i: usize| refits[i].sigma_b2_ratio.ln().abs();
        shift(b).total_cmp(&shift(a))
    });
    let lowest_income = (0..m)
        .min_by(|&a, &b| refits[a].mean_lincomep.total_cmp(&refits[b].mean_lincomep))
        .unwrap_or(0);
    let most_influential = by_shift.first().copied().unwrap_or(0);
    let means: Vec<(f64, f64)> = panel
        .country_means
        .iter()
        .map(|m| (m.lcarpcap, m.lincomep))
        .collect();
    let without_most: Vec<(f64, f64)> = means
        .iter()
        .enumerate()
        .filter(|&(c, _)| c != most_influential)
        .map(|(_, &p)| p)
        .collect();
    let cars_rank = |c: usize| 1 + means.iter().filter(|m| m.0 > means[c].0).count();
    let cars_rank_of_most_influential = cars_rank(most_influential);
    let cars_rank_of_lowest_income = cars_rank(lowest_income);
    Ok(Influence {
        largest_lincomep_shift: argmax_abs(&refits, |r| r.lincomep_shift_in_se),
        largest_lrpmg_shift: argmax_abs(&refits, |r| r.lrpmg_shift_in_se),
        most_influential,
        between_correlation: correlation(&means),
        between_correlation_without: correlation(&without_most),
        cars_rank_of_most_influential,
        cars_rank_of_lowest_income,
        runner_up: by_shift.get(1).copied().unwrap_or(0),
        lowest_income,
        estimator_agreement,
        refits,
    })
}
