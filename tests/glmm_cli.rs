//! `lmm-report fit --family …`: GLMMs through the command line — lme4's summary header, the
//! JSON's GLMM fields, and usage errors for a link the family does not have.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_lmm-report");
const CBPP: &str = "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)";

fn fit(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("fit")
        .args(args)
        .output()
        .expect("run lmm-report")
}

#[test]
fn binomial_summary_reads_like_glmer() {
    let out = fit(&[
        "--data",
        "data/r/cbpp.csv",
        "--formula",
        CBPP,
        "--family",
        "binomial",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "Generalized linear mixed model fit by maximum likelihood (Laplace Approximation)\n \
             Family: binomial ( logit )\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("df.resid") && text.contains("-92.0263"),
        "{text}"
    );
    assert!(!text.contains("Residual"), "{text}");
}

#[test]
fn json_carries_family_link_and_nagq() {
    let out = fit(&[
        "--data",
        "data/r/cbpp.csv",
        "--formula",
        CBPP,
        "--family",
        "binomial",
        "--link",
        "probit",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["family"], "binomial");
    assert_eq!(v["link"], "probit");
    assert_eq!(v["nagq"], 1);
    assert!(
        (v["loglik"].as_f64().unwrap() + 92.6212234).abs() < 1e-4,
        "{}",
        v["loglik"]
    );
    for key in [
        "fixed",
        "random",
        "correlations",
        "theta",
        "converged",
        "singular",
        "evaluations",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert!(v["random"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["group"] != "Residual"));

    let out = fit(&[
        "--data",
        "data/r/cbpp.csv",
        "--formula",
        CBPP,
        "--family",
        "binomial",
        "--nagq",
        "25",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["nagq"], 25);
    assert!(
        (v["loglik"].as_f64().unwrap() + 50.0050153).abs() < 1e-4,
        "{}",
        v["loglik"]
    );

    let out = fit(&[
        "--data",
        "data/r/cbpp.csv",
        "--formula",
        CBPP,
        "--family",
        "binomial",
        "--fast",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["nagq"], 0);
}

#[test]
fn poisson_with_an_offset() {
    let out = fit(&[
        "--data",
        "data/r/cbpp.csv",
        "--formula",
        "incidence ~ factor(period) + offset(log(size)) + (1|herd)",
        "--family",
        "poisson",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["link"], "log");
    assert!(
        (v["loglik"].as_f64().unwrap() + 90.2416477).abs() < 1e-4,
        "{}",
        v["loglik"]
    );
}

#[test]
fn a_link_the_family_lacks_is_a_usage_error() {
    let out = fit(&[
        "--data",
        "data/r/cbpp.csv",
        "--formula",
        CBPP,
        "--family",
        "poisson",
        "--link",
        "logit",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no logit link"), "{err}");
}

#[test]
fn post_fit_options_with_a_glmm_are_a_usage_error_naming_them() {
    let out = fit(&[
        "--data",
        "data/r/cbpp.csv",
        "--formula",
        CBPP,
        "--family",
        "binomial",
        "--ranef",
        "--confint",
        "wald",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("--ranef, --confint"), "{msg}");
    assert!(msg.contains("--family binomial"), "{msg}");
    assert!(out.stdout.is_empty());
}
