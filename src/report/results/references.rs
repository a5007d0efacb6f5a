//! The recorded reference values the report quotes (never recomputes): the article's optimum
//! from an independent implementation and lme4's fits, read from `data/reference/`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ArticleEstimate, ResultsError};
use crate::report::rounding::{rounded, rounded_vec};

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
    let text = crate::io::regular::read_regular_to_string(path).map_err(|e| err(e.to_string()))?;
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
