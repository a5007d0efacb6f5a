//! GLMMs on data with repeated covariate patterns: cbpp as 842 bernoulli rows (one per
//! animal) has 56 distinct (herd, period) patterns, and PIRLS iterates over those 56. What
//! the fit reports must still be glmer's for the 842 rows as given
//! (`data/reference/glmer_bernoulli.json`, lme4 1.1-31 with `tolPwrss = 1e-12`): logLik,
//! `deviance()`, nobs and BIC, for the Laplace approximation, nAGQ = 25 and nAGQ = 0. And the
//! estimates must be those of the `cbind()` form of the same data, whose likelihood differs
//! only by Σ log C(size, incidence).

mod common;

use common::{close, close_abs, compare_glmm, reference_fit, table};
use lmm_report::engine::{fit, Column, Family, Fit, FitOptions, Link};
use serde_json::Value;

fn reference(id: &str) -> Value {
    reference_fit("glmer_bernoulli.json", id)
}

fn options(nagq: usize) -> FitOptions {
    FitOptions::default()
        .with_family(Family::Binomial(Link::Logit))
        .with_nagq(nagq.max(1))
        .with_fast(nagq == 0)
}

fn bernoulli(nagq: usize) -> Fit {
    let r = reference(&format!("cbpp_bernoulli_nagq{nagq}"));
    let f = fit(
        r["formula"].as_str().unwrap(),
        &table("r/cbpp_bernoulli.csv"),
        &options(nagq),
    )
    .unwrap();
    let id = format!("nAGQ = {nagq}");
    compare_glmm(&id, &f, &r);
    let info = f.glmm().unwrap();
    assert_eq!(f.result().nobs as f64, r["nobs"].as_f64().unwrap(), "{id}");
    assert_eq!(
        info.df_resid as f64,
        r["df_resid"].as_f64().unwrap(),
        "{id}"
    );
    assert_eq!(info.pirls_rows, 56, "{id}: PIRLS on the distinct patterns");
    f
}

#[test]
fn bernoulli_rows_laplace_match_glmer() {
    let f = bernoulli(1);
    assert!(f.converged(), "{}", f.result().message);
}

#[test]
fn bernoulli_rows_agq25_match_glmer() {
    let f = bernoulli(25);
    assert!(f.converged(), "{}", f.result().message);
}

#[test]
fn bernoulli_rows_fast_match_glmer() {
    bernoulli(0);
}

/// The bernoulli rows and the cbind() counts are one likelihood up to Σ log C(n, k): the same
/// estimates, and log-likelihoods that differ by exactly that constant.
#[test]
fn bernoulli_rows_equal_the_cbind_counts() {
    let formula = "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)";
    let counts = table("r/cbpp.csv");
    let grouped = fit(formula, &counts, &options(1)).unwrap();
    let rows = fit(
        "y ~ factor(period) + (1 | herd)",
        &table("r/cbpp_bernoulli.csv"),
        &options(1),
    )
    .unwrap();
    let number = |name: &str, i: usize| -> f64 {
        match counts.get(name).unwrap() {
            Column::Integer(v) => v[i].unwrap() as f64,
            Column::Numeric(v) => v[i].unwrap(),
            Column::Text(_) => panic!("{name} is text"),
        }
    };
    let ln_choose: f64 = (0..counts.nrows())
        .map(|i| {
            let (n, k) = (number("size", i), number("incidence", i));
            ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k)
        })
        .sum();
    close_abs("loglik", rows.loglik(), grouped.loglik() - ln_choose, 1e-7);
    close("theta", rows.theta()[0], grouped.theta()[0], 1e-5);
    for (a, b) in rows.coefficients().iter().zip(grouped.coefficients()) {
        close(&format!("beta {}", a.name), a.estimate, b.estimate, 1e-5);
        close(&format!("se {}", a.name), a.std_error, b.std_error, 1e-5);
    }
    assert_eq!(rows.result().nobs, 842);
    assert_eq!(grouped.result().nobs, 56);
}

fn ln_factorial(n: f64) -> f64 {
    (1..=n as u64).map(|k| (k as f64).ln()).sum()
}
