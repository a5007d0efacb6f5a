//! `lmm-report fit` end to end: recorded lme4 fits reproduced through the CLI, the JSON schema,
//! and every kind of bad input failing with a clear message and exit code 2.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{assert_fit_json_key_order, close, close_abs, lme4, lme4_extra};

const BIN: &str = env!("CARGO_BIN_EXE_lmm-report");

fn fit(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("fit")
        .args(args)
        .output()
        .expect("binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_csv(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lmm-report-fit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const SLEEP: &str = "Reaction ~ 1 + Days + (1 + Days|Subject)";

#[test]
fn sleepstudy_ml_and_reml_match_lme4() {
    for reml in [false, true] {
        let reference = lme4("sleepstudy_slopes", if reml { "REML" } else { "ML" });
        let (objective, theta, sigma) = (reference.objective, reference.theta(), reference.sigma);
        let mut args = vec![
            "--data",
            "data/sleepstudy.csv",
            "--formula",
            SLEEP,
            "--json",
        ];
        if reml {
            args.push("--reml");
        }
        let v = json(&fit(&args));
        assert_eq!(v["criterion"], if reml { "REML" } else { "ML" });
        assert_eq!(v["nobs"], 180);
        close_abs(
            "objective",
            v["objective"].as_f64().unwrap(),
            objective,
            1e-6,
        );
        let got: Vec<f64> = v["theta"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_f64().unwrap())
            .collect();
        // θ₂₁ is small (0.018), so compare it absolutely at the scale of the others.
        for (i, (g, w)) in got.iter().zip(&theta).enumerate() {
            close_abs(&format!("theta[{i}]"), *g, *w, 1e-5 * theta[0]);
        }
        close("sigma", v["sigma"].as_f64().unwrap(), sigma, 1e-5);
        assert_eq!(v["groups"][0]["name"], "Subject");
        assert_eq!(v["groups"][0]["levels"], 18);
        assert_eq!(v["converged"], true);
        assert_eq!(v["singular"], false);
    }
}

#[test]
fn derivative_free_optimiser_reaches_the_same_optimum() {
    let v = json(&fit(&[
        "--data",
        "data/sleepstudy.csv",
        "--formula",
        SLEEP,
        "--optimizer",
        "bobyqa",
        "--json",
    ]));
    let reference = lme4("sleepstudy_slopes", "ML");
    close_abs(
        "objective",
        v["objective"].as_f64().unwrap(),
        reference.objective,
        1e-6,
    );
    assert!(
        v["evaluations"].as_u64().unwrap() > 20,
        "BOBYQA needs more evaluations"
    );
}

#[test]
fn json_keys_follow_the_documented_schema() {
    let out = fit(&[
        "--data",
        "data/sleepstudy.csv",
        "--formula",
        SLEEP,
        "--json",
    ]);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_fit_json_key_order(&text);
    let v = json(&out);
    assert_eq!(v["fixed"][1]["name"], "Days");
    assert_eq!(v["random"][1]["term"], "Days");
    assert_eq!(v["correlations"][0]["term1"], "(Intercept)");
    close(
        "correlation",
        v["correlations"][0]["correlation"].as_f64().unwrap(),
        lme4("sleepstudy_slopes", "ML").correlation("Subject", "(Intercept)", "Days"),
        1e-4,
    );
}

#[test]
fn gasoline_with_year_matches_lme4_objectives() {
    // Year instead of Time = Year − 1965 only re-centres the intercept: ML deviance and the
    // REML criterion are unchanged (the reparametrisation has unit determinant).
    let formula = "LCarPCap ~ 1 + Year + LIncomeP + LRPMG + (1|Country)";
    for (flag, criterion) in [(None, "ML"), (Some("--reml"), "REML")] {
        let objective = lme4("gasoline", criterion).objective;
        let mut args = vec![
            "--data",
            "data/gasoline.csv",
            "--formula",
            formula,
            "--json",
        ];
        args.extend(flag);
        let v = json(&fit(&args));
        close_abs(
            &format!("{flag:?} objective"),
            v["objective"].as_f64().unwrap(),
            objective,
            1e-6,
        );
    }
}

#[test]
fn text_summary_has_the_sections_of_mixedmodels() {
    let out = fit(&["--data", "data/sleepstudy.csv", "--formula", SLEEP]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Linear mixed model fit by maximum likelihood",
        "logLik",
        "AICc",
        "Variance components:",
        "Residual",
        "Number of obs: 180",
        "Coef.",
        "Std. Error",
        "Pr(>|z|)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(out.stderr.is_empty(), "nothing on stderr off a terminal");
}

#[test]
fn missing_cells_are_dropped_and_counted() {
    let text = std::fs::read_to_string("data/sleepstudy.csv").unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[5] = "NA,4,\"308\"";
    lines[9] = ",8,\"308\"";
    let path = temp_csv("sleep-missing.csv", &(lines.join("\n") + "\n"));
    let out = fit(&[
        "--data",
        path.to_str().unwrap(),
        "--formula",
        SLEEP,
        "--json",
    ]);
    assert!(stderr(&out).contains("2 of 180 rows dropped for missing values"));
    assert_eq!(json(&out)["nobs"], 178);
}

#[test]
fn aliased_column_is_dropped_with_a_message() {
    let text = std::fs::read_to_string("data/sleepstudy.csv").unwrap();
    let mut out_text = String::from("Reaction,Days,Days2,Subject\n");
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let days: f64 = f[1].parse().unwrap();
        out_text.push_str(&format!("{},{},{},{}\n", f[0], f[1], 2.0 * days, f[2]));
    }
    let path = temp_csv("sleep-aliased.csv", &out_text);
    let out = fit(&[
        "--data",
        path.to_str().unwrap(),
        "--formula",
        "Reaction ~ 1 + Days + Days2 + (1|Subject)",
        "--json",
    ]);
    assert!(
        stderr(&out).contains("rank deficient so dropping 1 column: Days2"),
        "{}",
        stderr(&out)
    );
    assert_eq!(json(&out)["fixed"].as_array().unwrap().len(), 2);
}

fn assert_input_error(args: &[&str], message: &str) {
    let out = fit(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(message), "expected {message:?} in {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn unknown_column_points_into_the_formula() {
    assert_input_error(
        &[
            "--data",
            "data/sleepstudy.csv",
            "--formula",
            "Reaction ~ 1 + Dayz + (1|Subject)",
        ],
        "Dayz",
    );
}

#[test]
fn syntax_error_shows_the_position() {
    let out = fit(&[
        "--data",
        "data/sleepstudy.csv",
        "--formula",
        "Reaction ~ 1 + (1 + Days | Subject",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("column"), "{err}");
    assert!(err.contains('^'), "caret under the position: {err}");
}

#[test]
fn text_response_is_rejected() {
    assert_input_error(
        &[
            "--data",
            "data/gasoline.csv",
            "--formula",
            "Country ~ 1 + Year + (1|Country)",
        ],
        "Country",
    );
}

#[test]
fn non_finite_value_is_located() {
    let text = std::fs::read_to_string("data/sleepstudy.csv")
        .unwrap()
        .replacen("249.56", "NaN", 1);
    let path = temp_csv("sleep-nan.csv", &text);
    assert_input_error(
        &["--data", path.to_str().unwrap(), "--formula", SLEEP],
        "Reaction",
    );
}

#[test]
fn single_level_grouping_factor_is_rejected() {
    let mut text = String::from("y,x,g\n");
    for i in 0..20 {
        text.push_str(&format!("{},{},A\n", i as f64 * 0.7 + (i % 3) as f64, i));
    }
    let path = temp_csv("one-level.csv", &text);
    assert_input_error(
        &[
            "--data",
            path.to_str().unwrap(),
            "--formula",
            "y ~ 1 + x + (1|g)",
        ],
        "g",
    );
}

#[test]
fn missing_data_file_is_an_input_error() {
    assert_input_error(
        &["--data", "no/such.csv", "--formula", SLEEP],
        "no/such.csv does not exist",
    );
}

/// Writes one of the project's seeded workloads with the binary itself.
fn simulated(name: &str, args: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lmm-report-fit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let out = Command::new(BIN)
        .arg("workload")
        .args(args)
        .arg("--out")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    path
}

fn objective_of(args: &[&str]) -> f64 {
    json(&fit(args))["objective"].as_f64().unwrap()
}

// Reference objectives recorded with lme4 (data/reference/lme4_extra.json).

#[test]
fn crossed_insteval_shaped_design_matches_lme4() {
    let path = simulated("insteval.csv", &["--design", "insteval", "--seed", "1"]);
    let got = objective_of(&[
        "--data",
        path.to_str().unwrap(),
        "--formula",
        "y ~ 1 + service + (1|s) + (1|d) + (1|dept)",
        "--json",
    ]);
    close_abs(
        "objective",
        got,
        lme4_extra("insteval_like_seed1").objective,
        1e-6,
    );
}

#[test]
fn random_slopes_reml_matches_lme4() {
    let path = simulated(
        "slopes.csv",
        &[
            "--design", "slopes", "--rows", "20000", "--groups", "300", "--seed", "1",
        ],
    );
    let got = objective_of(&[
        "--data",
        path.to_str().unwrap(),
        "--formula",
        "y ~ 1 + x + (1 + x|g)",
        "--reml",
        "--json",
    ]);
    close_abs(
        "objective",
        got,
        lme4_extra("slopes_20000_300_seed1").objective,
        1e-6,
    );
}

#[test]
fn uncorrelated_slopes_match_lme4() {
    let got = objective_of(&[
        "--data",
        "data/sleepstudy.csv",
        "--formula",
        "Reaction ~ 1 + Days + (1 + Days || Subject)",
        "--json",
    ]);
    close_abs(
        "objective",
        got,
        lme4_extra("sleepstudy_uncorrelated").objective,
        1e-6,
    );
}

#[test]
fn nested_grouping_matches_lme4() {
    let text = std::fs::read_to_string("data/sleepstudy.csv").unwrap();
    let mut out = String::from("Reaction,Days,Subject,half\n");
    for line in text.lines().skip(1) {
        let days: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
        out.push_str(&format!(
            "{line},{}\n",
            if days >= 5.0 { "TRUE" } else { "FALSE" }
        ));
    }
    let path = temp_csv("sleep-half.csv", &out);
    let got = objective_of(&[
        "--data",
        path.to_str().unwrap(),
        "--formula",
        "Reaction ~ 1 + Days + (1 | Subject/half)",
        "--reml",
        "--json",
    ]);
    close_abs(
        "objective",
        got,
        lme4_extra("sleepstudy_nested_half").objective,
        1e-6,
    );
}

/// Integer grouping IDs beyond 2^53 stay exact: 18 subjects are 18 levels, and the fit equals
/// the one with the original IDs.
#[test]
fn huge_integer_ids_are_kept_exact() {
    let text = std::fs::read_to_string("data/sleepstudy.csv").unwrap();
    let mut out = String::from("Reaction,Days,Subject\n");
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let id: i64 = fields[2].trim_matches('"').parse().unwrap();
        out.push_str(&format!(
            "{},{},{}\n",
            fields[0],
            fields[1],
            (1_i64 << 53) + id - 308
        ));
    }
    let path = temp_csv("sleep-huge-ids.csv", &out);
    let v = json(&fit(&[
        "--data",
        path.to_str().unwrap(),
        "--formula",
        SLEEP,
        "--json",
    ]));
    assert_eq!(v["groups"][0]["levels"], 18);
    let reference = lme4("sleepstudy_slopes", "ML");
    close_abs(
        "objective",
        v["objective"].as_f64().unwrap(),
        reference.objective,
        1e-6,
    );
}
