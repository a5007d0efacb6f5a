//! Negative binomial GLMMs against lme4 1.1-31 (`data/reference/glmer_nb.json`,
//! `scripts/r/09_glmer_nb.R`, PIRLS to `tolPwrss = 1e-10`): grouseticks'
//! `TICKS ~ factor(YEAR) + scale(HEIGHT) + (1 | LOCATION)` with θ estimated (glmer.nb's
//! maximum of the Laplace log-likelihood over θ) and with θ = 2 fixed
//! (`negative.binomial(theta = 2)`). Log-likelihood to 1e-4, θ, β, standard errors and the
//! random-effects θ to 1e-3 relative, lme4's deviance() to 1e-3, AIC and BIC with θ counted as
//! a parameter (df 6).

mod common;

use std::process::Command;

use common::{close, compare_glmm, reference_fit, table};
use lmm_report::engine::{fit, Family, Fit, FitOptions};
use serde_json::Value;

const FORMULA: &str = "TICKS ~ factor(YEAR) + scale(HEIGHT) + (1 | LOCATION)";

fn compare(id: &str, family: Family) -> (Fit, Value) {
    let r = reference_fit("glmer_nb.json", id);
    let f = fit(
        FORMULA,
        &table("r/grouseticks.csv"),
        &FitOptions::default().with_family(family),
    )
    .unwrap_or_else(|e| panic!("{id}: {e}"));
    compare_glmm(id, &f, &r);
    close(
        &format!("{id} nb theta"),
        f.glmm().unwrap().family.shape().unwrap(),
        r["nb_theta"].as_f64().unwrap(),
        1e-3,
    );
    assert_eq!(
        f.result().dof as f64,
        r["df"].as_f64().unwrap(),
        "{id}: θ is a parameter"
    );
    (f, r)
}

#[test]
fn estimated_theta_matches_glmer_nb() {
    let family = Family::from_name("negative.binomial").unwrap();
    let (f, _) = compare("grouseticks_nb_estimated", family);
    assert!(f.converged(), "{}", f.result().message);
    assert!(
        f.to_string().contains(" Family: Negative Binomial(2.052"),
        "{f}"
    );
}

#[test]
fn fixed_theta_matches_glmer() {
    let family = Family::from_name("negative.binomial")
        .unwrap()
        .with_shape(2.0)
        .unwrap();
    let (f, _) = compare("grouseticks_nb_theta2", family);
    assert!(f.converged(), "{}", f.result().message);
    assert_eq!(f.glmm().unwrap().family.shape(), Some(2.0));
}

/// The profile over θ is a maximum: the estimated θ's log-likelihood is above those of fits
/// with θ 5% either side.
#[test]
fn estimated_theta_maximises_the_log_likelihood() {
    let family = Family::from_name("negative.binomial").unwrap();
    let data = table("r/grouseticks.csv");
    let best = fit(FORMULA, &data, &FitOptions::default().with_family(family)).unwrap();
    let theta = best.glmm().unwrap().family.shape().unwrap();
    for factor in [0.95, 1.05] {
        let other = fit(
            FORMULA,
            &data,
            &FitOptions::default().with_family(family.with_shape(theta * factor).unwrap()),
        )
        .unwrap();
        assert!(
            other.loglik() < best.loglik(),
            "θ × {factor}: {} vs {}",
            other.loglik(),
            best.loglik()
        );
    }
}

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lmm-report"))
        .args(args)
        .output()
        .expect("run lmm-report")
}

#[test]
fn the_command_line_fits_and_reports_theta() {
    let out = cli(&[
        "fit",
        "--data",
        "data/r/grouseticks.csv",
        "--family",
        "negative.binomial",
        "--nb-theta",
        "2",
        "--json",
        "--formula",
        FORMULA,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["family"], "negative.binomial");
    assert_eq!(json["nb_theta"], 2.0);
    assert_eq!(json["link"], "log");
}

#[test]
fn a_theta_without_the_family_or_out_of_range_is_a_usage_error() {
    for (family, theta, says) in [
        (
            "poisson",
            "2",
            "--nb-theta is for --family negative.binomial",
        ),
        ("negative.binomial", "-1", "θ must be positive and finite"),
        ("negative.binomial", "inf", "θ must be positive and finite"),
    ] {
        let out = cli(&[
            "fit",
            "--data",
            "data/r/grouseticks.csv",
            "--family",
            family,
            "--nb-theta",
            theta,
            "--formula",
            FORMULA,
        ]);
        assert_eq!(out.status.code(), Some(2), "{family} {theta}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{family} {theta}: {err}");
    }
}
