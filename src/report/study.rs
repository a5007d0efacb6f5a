//! The replicated simulation study: the article's design drawn from `replicates` consecutive
//! seeds, each data set fitted four ways — the article's objective as published, corrected,
//! and the sparse engine by ML and by REML — and the variance-component estimates summarised
//! (mean, bias, spread). Replicates run in parallel but are collected in seed order, so the
//! result does not depend on the number of threads.

use rayon::prelude::*;
use serde::Serialize;

use crate::report::article::{ArticleError, DenseRandomIntercept, NelderMeadOptions};
use crate::report::simulation::{RandomInterceptDesign, SimulatedData};
use lmm_engine::{Column, Criterion, FitOptions, Table};
use serde::Serializer;

/// The four estimators compared, in table order.
pub const ESTIMATORS: [&str; 4] = [
    "article, as published",
    "article, corrected",
    "sparse engine, ML",
    "sparse engine, REML",
];

/// Why the study could not run.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("seed {seed}: {source}")]
    Article {
        seed: u64,
        #[source]
        source: ArticleError,
    },
    #[error("seed {seed}: {source}")]
    Engine {
        seed: u64,
        #[source]
        source: lmm_engine::Error,
    },
}

/// Serialises to four decimals: the study's summaries are averages of optimiser end points
/// that agree to about 1e-7 across platforms, and biases near zero have no stable
/// significant digits, so they are rounded absolutely.
fn four_decimals<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    let rounded = (x * 1e4).round() / 1e4;
    s.serialize_f64(if rounded == 0.0 { 0.0 } else { rounded })
}

/// Summary of one estimator's estimates of one variance component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moments {
    #[serde(serialize_with = "four_decimals")]
    pub mean: f64,
    #[serde(serialize_with = "four_decimals")]
    pub bias: f64,
    /// Bias as a fraction of the true value.
    #[serde(serialize_with = "four_decimals")]
    pub relative_bias: f64,
    /// Standard error of the mean estimate (sd / √R): the bias is real when it is several of
    /// these away from 0.
    #[serde(serialize_with = "four_decimals")]
    pub bias_se: f64,
    #[serde(serialize_with = "four_decimals")]
    pub sd: f64,
    #[serde(serialize_with = "four_decimals")]
    pub rmse: f64,
}

impl Moments {
    fn of(values: &[f64], truth: f64) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        let mse = values.iter().map(|v| (v - truth).powi(2)).sum::<f64>() / n;
        Self {
            mean,
            bias: mean - truth,
            relative_bias: (mean - truth) / truth,
            bias_se: (var / n).sqrt(),
            sd: var.sqrt(),
            rmse: mse.sqrt(),
        }
    }
}

/// One estimator's results over all replicates.
#[derive(Debug, Clone, Serialize)]
pub struct EstimatorSummary {
    pub estimator: String,
    pub sigma2: Moments,
    pub sigma_b2: Moments,
    /// Per-replicate estimates [σ², σ_b²], in seed order (for the figure; not serialised).
    #[serde(skip)]
    pub estimates: Vec<[f64; 2]>,
}

/// The whole study.
#[derive(Debug, Clone, Serialize)]
pub struct SimulationStudy {
    pub design: RandomInterceptDesign,
    pub replicates: usize,
    pub first_seed: u64,
    pub truth: [f64; 2],
    pub estimators: Vec<EstimatorSummary>,
}

/// The article's simulated data as a table (`y`, `x1` … `x{p-1}`, integer group `g`) for the
/// engine's formula interface.
pub fn simulated_table(data: &SimulatedData) -> Table {
    let p = data.x.first().map_or(0, Vec::len);
    let mut table = Table::new().with(
        "y",
        Column::Numeric(data.y.iter().map(|&v| Some(v)).collect()),
    );
    for j in 1..p {
        table.push(
            format!("x{j}"),
            Column::Numeric(data.x.iter().map(|row| Some(row[j])).collect()),
        );
    }
    // Lossless: group indices are below the design's group count.
    table.with(
        "g",
        Column::Integer(data.group.iter().map(|&g| Some(g as i64)).collect()),
    )
}

/// The engine's formula for the simulated data with `p` fixed-effects columns (intercept
/// included): `y ~ 1 + x1 + … + (1 | g)`.
pub fn simulated_formula(p: usize) -> String {
    let mut formula = String::from("y ~ 1");
    for j in 1..p {
        formula.push_str(&format!(" + x{j}"));
    }
    formula.push_str(" + (1 | g)");
    formula
}

/// Fits one replicate four ways; returns [σ², σ_b²] per estimator in [`ESTIMATORS`] order.
pub fn fit_replicate(
    design: &RandomInterceptDesign,
    seed: u64,
) -> Result<[[f64; 2]; 4], StudyError> {
    let data = design.simulate(seed);
    let article = |e| StudyError::Article { seed, source: e };
    let engine = |e| StudyError::Engine { seed, source: e };
    let dense =
        DenseRandomIntercept::new(&data.x, &data.group, design.groups, &data.y).map_err(article)?;
    let mut out = [[0.0; 2]; 4];
    let fits = dense
        .fit_both(NelderMeadOptions::default())
        .map_err(article)?;
    for (slot, fit) in fits.iter().enumerate() {
        out[slot] = [fit.sigma.powi(2), fit.sigma_b.powi(2)];
    }
    let table = simulated_table(&data);
    let formula = simulated_formula(data.x.first().map_or(0, Vec::len));
    for (slot, criterion) in [(2, Criterion::Ml), (3, Criterion::Reml)] {
        let options = FitOptions::default().with_criterion(criterion);
        let fit = lmm_engine::fit(&formula, &table, &options).map_err(engine)?;
        out[slot] = [
            fit.sigma().powi(2),
            fit.variance_components()[0].variances[0],
        ];
    }
    Ok(out)
}

/// Runs the study over seeds `first_seed .. first_seed + replicates`.
pub fn run(
    design: RandomInterceptDesign,
    replicates: usize,
    first_seed: u64,
) -> Result<SimulationStudy, StudyError> {
    let per_seed: Vec<[[f64; 2]; 4]> = (0..replicates as u64)
        .into_par_iter()
        .map(|r| fit_replicate(&design, first_seed + r))
        .collect::<Result<_, _>>()?;
    let truth = [design.sigma2, design.sigma_b2];
    let estimators = ESTIMATORS
        .iter()
        .enumerate()
        .map(|(e, name)| {
            let estimates: Vec<[f64; 2]> = per_seed.iter().map(|r| r[e]).collect();
            let column = |c: usize| estimates.iter().map(|v| v[c]).collect::<Vec<f64>>();
            EstimatorSummary {
                estimator: (*name).to_owned(),
                sigma2: Moments::of(&column(0), truth[0]),
                sigma_b2: Moments::of(&column(1), truth[1]),
                estimates,
            }
        })
        .collect();
    Ok(SimulationStudy {
        design,
        replicates,
        first_seed,
        truth,
        estimators,
    })
}
