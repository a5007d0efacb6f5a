//! The article's dense estimator against the recorded optimum of its own objective (both
//! log-determinant weights) and against lme4's ML fit.

mod common;

use std::path::Path;

use common::close;

use lmm_report::io::GasolinePanel;
use lmm_report::report::article::{DenseRandomIntercept, LogDetWeight, NelderMeadOptions};
use lmm_report::report::results::{self, References};
use lmm_report::report::simulation::RandomInterceptDesign;

const REL_TOL: f64 = 1e-5;

fn panel() -> GasolinePanel {
    GasolinePanel::load(Path::new("data/gasoline.csv")).expect("gasoline loads")
}

fn references() -> References {
    results::load_references(Path::new("data/reference")).expect("references load")
}

#[test]
fn both_variants_reproduce_the_recorded_article_optimum() {
    let refs = references();
    let [published, corrected] = results::fit_article_variants(&panel()).unwrap();
    for (fit, reference) in [
        (&published, &refs.article_published),
        (&corrected, &refs.article_corrected),
    ] {
        let label = fit.weight.label();
        assert!(fit.optimiser.converged, "{label}: {:?}", fit.optimiser);
        close(
            &format!("{label} sigma2"),
            fit.sigma.powi(2),
            reference.sigma2,
            REL_TOL,
        );
        close(
            &format!("{label} sigma_b2"),
            fit.sigma_b.powi(2),
            reference.sigma_b2,
            REL_TOL,
        );
        for (i, (&b, &r)) in fit.beta.iter().zip(&reference.beta).enumerate() {
            close(&format!("{label} beta[{i}]"), b, r, REL_TOL);
        }
        assert!(
            (fit.objective - reference.objective).abs() < 1e-6,
            "{label} objective {} vs {}",
            fit.objective,
            reference.objective
        );
    }
}

#[test]
fn corrected_variant_is_the_lme4_ml_fit() {
    let refs = references();
    let [_, corrected] = results::fit_article_variants(&panel()).unwrap();
    let lme4 = &refs.lme4_ml;
    close("sigma2", corrected.sigma.powi(2), lme4.sigma2, REL_TOL);
    close(
        "sigma_b2",
        corrected.sigma_b.powi(2),
        lme4.sigma_b2,
        REL_TOL,
    );
    for (i, (&b, &r)) in corrected.beta.iter().zip(&lme4.beta).enumerate() {
        close(&format!("beta[{i}]"), b, r, REL_TOL);
    }
    // The corrected objective with the right constant is lme4's deviance.
    assert!(
        (corrected.deviance - lme4.objective).abs() < 1e-6,
        "deviance {} vs lme4 {}",
        corrected.deviance,
        lme4.objective
    );
}

#[test]
fn published_variant_is_measurably_not_the_ml_fit() {
    let refs = references();
    let [published, corrected] = results::fit_article_variants(&panel()).unwrap();
    let rel = (published.sigma.powi(2) - refs.lme4_ml.sigma2).abs() / refs.lme4_ml.sigma2;
    assert!(rel > 0.05, "published sigma2 only {rel:.3} away from ML");
    // Its optimum is worse in the true likelihood.
    assert!(published.deviance > corrected.deviance + 0.1);
}

#[test]
fn corrected_objective_is_the_deviance_up_to_a_constant_everywhere() {
    let panel = panel();
    let x: Vec<Vec<f64>> = panel.fixed_design().iter().map(|r| r.to_vec()).collect();
    let model = DenseRandomIntercept::new(
        &x,
        &panel.country_index,
        panel.countries.len(),
        &panel.lcarpcap,
    )
    .unwrap();
    let constant = (342.0 - 18.0) * std::f64::consts::TAU.ln();
    for (ls, lb) in [(-1.0, 0.0), (-2.0, 0.5), (0.3, -0.7)] {
        let f = model.objective([ls, lb], LogDetWeight::Corrected);
        let d = model.deviance(f64::exp(ls), f64::exp(lb));
        assert!((2.0 * f + constant - d).abs() < 1e-9 * d.abs().max(1.0));
        // The published objective adds exactly one more half log-determinant.
        let g = model.objective([ls, lb], LogDetWeight::AsPublished);
        assert!(g > f);
    }
}

#[test]
fn rejects_a_design_with_too_few_rows() {
    let x = vec![vec![1.0, 0.0]; 3];
    let err = DenseRandomIntercept::new(&x, &[0, 1, 1], 2, &[1.0, 2.0, 3.0]).unwrap_err();
    assert!(err.to_string().contains("more rows"), "{err}");
}

#[test]
fn simulation_check_recovers_the_truth_within_sampling_error() {
    let design = RandomInterceptDesign::ARTICLE;
    let check = results::simulation_check(results::SIMULATION_SEED).unwrap();
    let n = design.nobs() as f64;
    let m = design.groups as f64;
    let p = (design.covariates + 1) as f64;
    // Four standard errors of the ML variance estimators: σ²·sqrt(2/(n − p − m)) and
    // σ_b²·sqrt(2/m) (plus the residual part, negligible here).
    let se_sigma2 = design.sigma2 * (2.0 / (n - p - m)).sqrt();
    let se_sigma_b2 = design.sigma_b2 * (2.0 / m).sqrt();
    for (label, est) in [
        ("corrected", check.corrected),
        ("published", check.published),
    ] {
        assert!(
            (est[0] - 1.0).abs() < 4.0 * se_sigma2,
            "{label} sigma2 {} not within 4 SE of 1",
            est[0]
        );
        assert!(
            (est[1] - 3.0).abs() < 4.0 * se_sigma_b2,
            "{label} sigma_b2 {} not within 4 SE of 3",
            est[1]
        );
    }
    // Same seed, same data, same estimates.
    let again = results::simulation_check(results::SIMULATION_SEED).unwrap();
    assert_eq!(check.corrected, again.corrected);
    assert_eq!(check.published, again.published);
    // A different seed gives a different data set.
    let other = design.simulate(results::SIMULATION_SEED + 1);
    assert_ne!(other.y, design.simulate(results::SIMULATION_SEED).y);
}

#[test]
fn nelder_mead_reports_its_work() {
    let panel = panel();
    let x: Vec<Vec<f64>> = panel.fixed_design().iter().map(|r| r.to_vec()).collect();
    let model = DenseRandomIntercept::new(
        &x,
        &panel.country_index,
        panel.countries.len(),
        &panel.lcarpcap,
    )
    .unwrap();
    let tight = model
        .fit(LogDetWeight::Corrected, NelderMeadOptions::default())
        .unwrap();
    assert!(tight.optimiser.evaluations > tight.optimiser.iterations);
    assert!((tight.optimiser.final_objective - tight.objective).abs() < 1e-12);
    // A starved optimiser says so instead of claiming convergence.
    let starved = model
        .fit(
            LogDetWeight::Corrected,
            NelderMeadOptions {
                max_iterations: 5,
                ..NelderMeadOptions::default()
            },
        )
        .unwrap();
    assert!(!starved.optimiser.converged);
}
