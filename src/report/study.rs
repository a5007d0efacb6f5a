//! The replicated simulation study: the article's design drawn from `replicates` consecutive
//! seeds, each data set fitted four ways — the article's objective as published, corrected,
//! and the sparse engine by ML and by REML — and the variance-component estimates summarised
//! (mean, bias, spread). Replicates run in parallel but are collected in seed order, so the
//! result does not depend on the number of threads.

use faer::Mat;
use rayon::prelude::*;
use serde::Serialize;

use crate::report::article::{ArticleError, DenseRandomIntercept, NelderMeadOptions};
use crate::report::simulation::{RandomInterceptDesign, SimulatedData};
use lmm_engine::{Criterion, FitOptions, LinearMixedModel, ModelError};
use lmm_engine::{ModelMatrices, RandomEffectsTerm};
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
        source: ModelError,
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

/// The article's simulated data as model matrices for the sparse engine.
pub fn model_matrices(data: &SimulatedData, groups: usize) -> ModelMatrices {
    let n = data.y.len();
    let p = data.x.first().map_or(0, Vec::len);
    ModelMatrices {
        response: "y".into(),
        y: data.y.clone(),
        x: Mat::from_fn(n, p, |i, j| data.x[i][j]),
        fixed_names: std::iter::once("(Intercept)".to_owned())
            .chain((1..p).map(|j| format!("x{j}")))
            .collect(),
        dropped_fixed: Vec::new(),
        terms: vec![RandomEffectsTerm {
            group: "g".into(),
            columns: vec!["(Intercept)".into()],
            levels: (1..=groups).map(|g| g.to_string()).collect(),
            refs: data.group.iter().map(|&g| g as u32).collect(),
            z: vec![1.0; n],
        }],
        rows_dropped: 0,
    }
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
    let matrices = model_matrices(&data, design.groups);
    let mut model = LinearMixedModel::new(&matrices).map_err(engine)?;
    for (slot, criterion) in [(2, Criterion::Ml), (3, Criterion::Reml)] {
        let fit = model
            .fit(&FitOptions::default().with_criterion(criterion))
            .map_err(engine)?;
        out[slot] = [fit.sigma.powi(2), fit.variance_components[0].variances[0]];
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
