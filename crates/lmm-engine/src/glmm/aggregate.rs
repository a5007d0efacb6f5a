//! Rows with the same covariates, random-effects rows and offset have the same linear
//! predictor at every (θ, β, u), so PIRLS can treat each such set as one row: the sum of
//! their prior weights, their weighted mean response — for binomial rows the successes and
//! trials add, for Poisson rows the counts — and the log-density's coefficients of log μ and
//! log(1 − μ) (or μ) summed. The likelihood is unchanged exactly (its μ-free constant is the
//! original rows'), and so is lme4's `deviance()` after adding the difference of the
//! saturated terms, which does not depend on μ.
//!
//! This is what makes the cost of a PIRLS iteration depend on the number of distinct
//! covariate patterns instead of the number of rows (a bernoulli experiment with a few
//! factors has a few dozen patterns however many trials it has). Nothing changes for data
//! without repeated patterns (VerbAgg, cbpp).

use std::collections::HashMap;

use faer::Mat;

use crate::design::{GlmResponse, ModelMatrices};

use super::family::Family;
use super::laplace::ConditionalDensity;

/// The model's rows as PIRLS sees them, and what maps them back to the data's rows.
#[derive(Debug, Clone)]
pub(crate) struct Aggregation {
    /// Model matrices of the distinct rows (first occurrence order).
    pub(crate) mm: ModelMatrices,
    /// Their response: summed weights, weighted mean response, the first row's offset.
    pub(crate) response: GlmResponse,
    /// Their log-density, with the original rows' constant.
    pub(crate) density: ConditionalDensity,
    /// Data rows behind each distinct row.
    pub(crate) multiplicity: Vec<usize>,
    /// The distinct row of each data row.
    pub(crate) group: Vec<u32>,
    /// Σ deviance residuals over the data's rows minus Σ over the distinct rows, at any μ.
    pub(crate) deviance_constant: f64,
}

/// Most combinations of random-effects levels for [`levels_all_distinct`]'s bitmap (8 MiB).
const MAX_LEVEL_COMBINATIONS: usize = 1 << 26;

/// Whether every row has its own combination of random-effects levels, so that no two rows
/// can share a pattern whatever their covariates (VerbAgg: 316 × 24 levels, one row each):
/// one pass with a bitmap over the combinations, instead of hashing every row's key.
/// `false` (not known) when there are more than [`MAX_LEVEL_COMBINATIONS`] of them.
fn levels_all_distinct(mm: &ModelMatrices) -> bool {
    let mut combinations = 1usize;
    for term in &mm.terms {
        match combinations.checked_mul(term.nlevels()) {
            Some(c) if c <= MAX_LEVEL_COMBINATIONS => combinations = c,
            _ => return false,
        }
    }
    if mm.terms.is_empty() {
        return false;
    }
    let mut seen = vec![0u64; combinations.div_ceil(64)];
    for i in 0..mm.nobs() {
        let at = mm
            .terms
            .iter()
            .fold(0usize, |at, t| at * t.nlevels() + t.refs[i] as usize);
        let (word, bit) = (at / 64, 1u64 << (at % 64));
        if seen[word] & bit != 0 {
            return false;
        }
        seen[word] |= bit;
    }
    true
}

/// Groups the rows of `mm` that share X, every term's level and z, and the offset; `None`
/// when every row is distinct.
pub(crate) fn aggregate(
    mm: &ModelMatrices,
    response: &GlmResponse,
    density: &ConditionalDensity,
    family: Family,
) -> Option<Aggregation> {
    if family.has_dispersion() {
        // The Gamma's density depends on the dispersion, a function of every row's y: rows
        // with one μ are not summarised by their weights and mean response.
        return None;
    }
    if levels_all_distinct(mm) {
        return None;
    }
    let n = mm.nobs();
    let p = mm.x.ncols();
    let mut index: HashMap<Vec<u64>, u32> = HashMap::with_capacity(n);
    let mut group = vec![0u32; n];
    let mut first: Vec<usize> = Vec::new();
    let mut key = Vec::new();
    for (i, slot) in group.iter_mut().enumerate() {
        key.clear();
        key.extend((0..p).map(|j| mm.x[(i, j)].to_bits()));
        key.push(response.offset[i].to_bits());
        for term in &mm.terms {
            let k = term.width();
            key.push(u64::from(term.refs[i]));
            key.extend(term.z[i * k..(i + 1) * k].iter().map(|z| z.to_bits()));
        }
        *slot = match index.get(&key) {
            Some(&g) => g,
            None => {
                // The key is copied only for a new pattern.
                let g = first.len() as u32;
                index.insert(key.clone(), g);
                first.push(i);
                g
            }
        };
    }
    let m = first.len();
    if m == n {
        return None;
    }
    let mut multiplicity = vec![0usize; m];
    let mut weights = vec![0.0; m];
    let mut weighted_y = vec![0.0; m];
    let mut trials = vec![0.0; m];
    for (i, &g) in group.iter().enumerate() {
        let g = g as usize;
        multiplicity[g] += 1;
        weights[g] += response.weights[i];
        weighted_y[g] += response.weights[i] * response.y[i];
        trials[g] += response.trials[i];
    }
    let y: Vec<f64> = weighted_y
        .iter()
        .zip(&weights)
        .map(|(s, w)| if *w > 0.0 { s / w } else { 0.0 })
        .collect();
    let aggregated = GlmResponse {
        y: y.clone(),
        weights: weights.clone(),
        trials,
        offset: first.iter().map(|&i| response.offset[i]).collect(),
        notes: response.notes.clone(),
    };
    // The saturated terms of the deviance residuals differ; their μ-dependence does not.
    let reference = match family {
        Family::Binomial(_) => 0.5,
        _ => 1.0,
    };
    let original: f64 = (0..n)
        .map(|i| family.deviance_residual(response.y[i], reference, response.weights[i]))
        .sum();
    let distinct: f64 = (0..m)
        .map(|g| family.deviance_residual(y[g], reference, weights[g]))
        .sum();
    let mut rows = mm.clone();
    rows.y = first.iter().map(|&i| mm.y[i]).collect();
    rows.x = Mat::from_fn(m, p, |g, j| mm.x[(first[g], j)]);
    for term in &mut rows.terms {
        let k = term.width();
        term.refs = first.iter().map(|&i| term.refs[i]).collect();
        term.z = first
            .iter()
            .flat_map(|&i| term.z[i * k..(i + 1) * k].iter().copied())
            .collect();
    }
    rows.weights = None;
    Some(Aggregation {
        mm: rows,
        response: aggregated,
        density: density.aggregate(&group, m),
        multiplicity,
        group,
        deviance_constant: original - distinct,
    })
}
