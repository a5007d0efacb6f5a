//! Post-fit inference against lmerTest / pbkrtest / lme4 (`data/reference/lmertest.json`,
//! recorded by `scripts/r/03_lmertest.R`): Satterthwaite and Kenward–Roger df, t and p,
//! pbkrtest's adjusted covariance, random effects with conditional SDs, fitted values and
//! residuals, Wald and profile intervals, predictions, and anova. Tolerances are issue 11's.

mod common;

use common::{close, table};
use lmm_report::engine::inference::{ranef, Ddf, FittedModel};
use lmm_report::engine::{Criterion, FitOptions};
use serde_json::Value;

fn reference() -> Value {
    let text = std::fs::read_to_string("data/reference/lmertest.json").expect("lmertest.json");
    serde_json::from_str(&text).expect("lmertest.json parses")
}

fn data_path(file: &str) -> String {
    if file == "sleepstudy.csv" {
        file.to_owned()
    } else {
        format!("r/{file}")
    }
}

fn fitted_model(rf: &Value) -> FittedModel {
    let criterion = if rf["criterion"] == "REML" {
        Criterion::Reml
    } else {
        Criterion::Ml
    };
    let t = table(&data_path(rf["data"].as_str().unwrap()));
    FittedModel::fit(
        rf["formula"].as_str().unwrap(),
        &t,
        &FitOptions::default().with_criterion(criterion),
    )
    .expect("fit")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Asserts `|got − want| ≤ rel·scale` for quantities near zero (modes, bounds).
fn close_scaled(what: &str, got: f64, want: f64, rel: f64, scale: f64) {
    assert!(
        (got - want).abs() <= rel * scale,
        "{what}: got {got}, want {want} (difference {:.2e}, tolerance {:.0e}·{scale})",
        got - want,
        rel
    );
}

#[test]
fn satterthwaite_matches_lmertest() {
    for rf in reference()["fits"].as_array().unwrap() {
        let id = rf["id"].as_str().unwrap();
        let mut m = fitted_model(rf);
        let tests = m
            .coefficient_tests(Ddf::Satterthwaite)
            .expect("satterthwaite");
        let want = rf["satterthwaite"]["coefficients"].as_array().unwrap();
        assert_eq!(tests.len(), want.len(), "{id}");
        for (got, w) in tests.iter().zip(want) {
            assert_eq!(got.name, w["name"].as_str().unwrap(), "{id}");
            let what = format!("{id} {}", got.name);
            close(&format!("{what} df"), got.df, f(&w["df"]), 1e-3);
            close(&format!("{what} t"), got.statistic, f(&w["t"]), 1e-5);
            close(&format!("{what} p"), got.p_value, f(&w["p"]), 1e-3);
        }
    }
}

#[test]
fn kenward_roger_matches_pbkrtest() {
    for rf in reference()["fits"].as_array().unwrap() {
        let id = rf["id"].as_str().unwrap();
        let mut m = fitted_model(rf);
        let Some(kr) = rf.get("kenward_roger") else {
            // ML fits: Kenward–Roger needs REML, as in lmerTest.
            assert!(m.coefficient_tests(Ddf::KenwardRoger).is_err(), "{id}");
            continue;
        };
        let tests = m
            .coefficient_tests(Ddf::KenwardRoger)
            .expect("kenward-roger");
        for (got, w) in tests.iter().zip(kr["coefficients"].as_array().unwrap()) {
            let what = format!("{id} {}", got.name);
            close(&format!("{what} KR df"), got.df, f(&w["df"]), 1e-3);
            close(
                &format!("{what} KR se"),
                got.std_error,
                f(&w["std_error"]),
                1e-5,
            );
            close(&format!("{what} KR p"), got.p_value, f(&w["p"]), 1e-3);
        }
        let adjusted = lmm_report::engine::inference::kenward_roger::KenwardRoger::compute(&m)
            .expect("vcovAdj")
            .adjusted;
        let rows = kr["vcovAdj"].as_array().unwrap();
        let p = rows.len();
        let scale = (0..p).map(|i| adjusted[i * p + i]).fold(0.0, f64::max);
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.as_array().unwrap().iter().enumerate() {
                close_scaled(
                    &format!("{id} vcovAdj[{r},{c}]"),
                    adjusted[r * p + c],
                    f(v),
                    1e-5,
                    scale,
                );
            }
        }
    }
}

#[test]
fn ranef_and_fitted_match_lme4() {
    for rf in reference()["fits"].as_array().unwrap() {
        let id = rf["id"].as_str().unwrap();
        let m = fitted_model(rf);
        let rows = ranef::ranef(m.fit_result());
        let want = rf["ranef_condvar"].as_array().unwrap();
        assert_eq!(rows.len(), want.len(), "{id}");
        let scale = want.iter().map(|w| f(&w["mode"]).abs()).fold(0.0, f64::max);
        for (got, w) in rows.iter().zip(want) {
            assert_eq!(got.group, w["group"].as_str().unwrap(), "{id}");
            assert_eq!(got.level, w["level"].as_str().unwrap(), "{id}");
            assert_eq!(got.term, w["term"].as_str().unwrap(), "{id}");
            let what = format!("{id} {}/{}/{}", got.group, got.level, got.term);
            close_scaled(
                &format!("{what} mode"),
                got.mode,
                f(&w["mode"]),
                1e-4,
                scale,
            );
            close(
                &format!("{what} cond_sd"),
                got.cond_sd,
                f(&w["cond_sd"]),
                1e-3,
            );
        }
        let fv = m.fitted_values();
        for (i, w) in rf["fitted_first10"].as_array().unwrap().iter().enumerate() {
            close(&format!("{id} fitted[{i}]"), fv.fitted[i], f(w), 1e-6);
        }
        for (i, w) in rf["residuals_first10"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let scale = f(w).abs().max(1.0);
            close_scaled(
                &format!("{id} residual[{i}]"),
                fv.residuals[i],
                f(w),
                1e-6,
                scale,
            );
        }
    }
}

fn check_intervals(
    id: &str,
    got: &[lmm_report::engine::inference::confint::ConfintRow],
    want: &Value,
    rel: f64,
) {
    let rows = want["rows"].as_array().unwrap();
    assert_eq!(got.len(), rows.len(), "{id}");
    for (g, w) in got.iter().zip(rows) {
        assert_eq!(g.parameter, w["name"].as_str().unwrap(), "{id}");
        for (bound, got_b, want_b) in [
            ("lower", g.lower, &w["lower"]),
            ("upper", g.upper, &w["upper"]),
        ] {
            let what = format!("{id} {} {bound}", g.parameter);
            match (got_b, want_b.as_f64()) {
                (None, None) => {}
                (Some(x), Some(y)) => close_scaled(&what, x, y, rel, y.abs().max(1.0)),
                (x, y) => panic!("{what}: got {x:?}, want {y:?}"),
            }
        }
    }
}

#[test]
fn wald_and_profile_intervals_match_lme4() {
    use lmm_report::engine::inference::confint::ConfintMethod;
    for rf in reference()["fits"].as_array().unwrap() {
        let id = rf["id"].as_str().unwrap();
        let mut m = fitted_model(rf);
        let wald = m.confint(ConfintMethod::Wald, 0.95, None).unwrap();
        check_intervals(id, &wald, &rf["confint_wald"], 1e-6);
        let start = std::time::Instant::now();
        let profile = m.confint(ConfintMethod::Profile, 0.95, None).unwrap();
        eprintln!("{id}: profile intervals in {:?}", start.elapsed());
        check_intervals(id, &profile, &rf["confint_profile"], 1e-3);
    }
}

#[test]
fn predictions_match_lme4() {
    use lmm_report::engine::inference::predict::{predict, PredictOptions, RandomEffectsForm};
    for rf in reference()["fits"].as_array().unwrap() {
        let id = rf["id"].as_str().unwrap();
        let m = fitted_model(rf);
        let training = table(&data_path(rf["data"].as_str().unwrap()));
        let want = &rf["predict"];
        if want.is_null() {
            continue; // recorded for the REML fits
        }
        let newdata = table(&format!("r/{}", want["newdata_file"].as_str().unwrap()));
        for (form, key) in [
            (RandomEffectsForm::None, "fixed_only"),
            (RandomEffectsForm::All, "with_re"),
        ] {
            let options = PredictOptions {
                re_form: form,
                allow_new_levels: true,
                ..PredictOptions::default()
            };
            let got = predict(&m, &training, &newdata, &options).expect("predict");
            for (i, (g, w)) in got.iter().zip(want[key].as_array().unwrap()).enumerate() {
                let g = g
                    .as_ref()
                    .unwrap_or_else(|| panic!("{id} {key}[{i}]: no prediction"));
                close(&format!("{id} {key}[{i}]"), g.fit, f(w), 1e-6);
            }
        }
        // Every reference new-data set has a level the training data lack.
        let err = predict(&m, &training, &newdata, &PredictOptions::default()).unwrap_err();
        assert!(
            err.is_input_error() && err.to_string().contains("new level"),
            "{err}"
        );
    }
}

#[test]
fn anova_matches_lme4() {
    use lmm_report::engine::inference::anova::anova;
    let r = reference();
    let a = &r["anova"];
    let t = table(a["data"].as_str().unwrap());
    // Given in the other order: the table orders the models by their number of parameters.
    let formulas = vec![
        a["m1"].as_str().unwrap().to_owned(),
        a["m0"].as_str().unwrap().to_owned(),
    ];
    let got = anova(
        &formulas,
        &t,
        &FitOptions::default().with_criterion(Criterion::Reml),
    )
    .unwrap();
    let rows = a["rows"].as_array().unwrap();
    assert_eq!(got.models[0].formula, a["m0"].as_str().unwrap());
    for (m, w) in got.models.iter().zip(rows) {
        assert_eq!(m.npar as f64, f(&w["npar"]));
        close("AIC", m.aic, f(&w["AIC"]), 1e-8);
        close("BIC", m.bic, f(&w["BIC"]), 1e-8);
        close("logLik", m.loglik, f(&w["logLik"]), 1e-8);
        close("deviance", m.deviance, f(&w["deviance"]), 1e-8);
    }
    close("chisq", got.tests[0].chisq, f(&rows[1]["Chisq"]), 1e-4);
    assert_eq!(got.tests[0].df as f64, f(&rows[1]["Df"]));
    close("p", got.tests[0].p_value.unwrap(), f(&rows[1]["p"]), 1e-4);
}

#[test]
fn anova_refuses_models_fitted_to_different_rows() {
    use lmm_report::engine::inference::anova::anova;
    use lmm_report::engine::{Column, Table};
    let mut y = Vec::new();
    let mut x = Vec::new();
    let mut g = Vec::new();
    for i in 0..60 {
        g.push(Some(format!("g{}", i % 6)));
        x.push(if i == 7 { None } else { Some((i % 5) as f64) });
        y.push(Some(
            (i % 6) as f64 + 0.3 * (i % 5) as f64 + ((i * 7) % 3) as f64,
        ));
    }
    let t = Table::new()
        .with("y", Column::Numeric(y))
        .with("x", Column::Numeric(x))
        .with("g", Column::Text(g));
    let err = anova(
        &["y ~ 1 + (1|g)".to_owned(), "y ~ x + (1|g)".to_owned()],
        &t,
        &FitOptions::default(),
    )
    .unwrap_err();
    assert!(err.is_input_error(), "{err}");
    assert!(err.to_string().contains("different rows"), "{err}");
    assert!(err.to_string().contains("row 8"), "{err}");
}

#[test]
fn bootstrap_intervals_agree_with_profile_on_a_well_identified_model() {
    use lmm_report::engine::inference::bootstrap::BootstrapOptions;
    use lmm_report::engine::inference::confint::ConfintMethod;
    // Orthodont by ML: 27 subjects, 108 rows; the fixed effects and σ are well identified.
    let t = table("r/Orthodont.csv");
    let mut m = FittedModel::fit(
        "distance ~ age * Sex + (1 | Subject)",
        &t,
        &FitOptions::default(),
    )
    .unwrap();
    let nsim = 2000;
    let reps = m
        .bootstrap(BootstrapOptions { nsim, seed: 11 }, &|_| {})
        .unwrap();
    assert_eq!(reps.len(), nsim);
    assert!(reps.iter().filter(|r| r.converged).count() >= nsim * 99 / 100);
    let boot = m
        .confint(ConfintMethod::Bootstrap, 0.95, Some(&reps))
        .unwrap();
    let profile = m.confint(ConfintMethod::Profile, 0.95, None).unwrap();
    // The Monte Carlo standard error of a 2.5 % quantile from 2000 draws is about 0.05 of the
    // interval's width (√(q(1−q)/n)/density); allow three of them.
    for (b, p) in boot.iter().zip(&profile).skip(1) {
        let width = p.upper.unwrap() - p.lower.unwrap();
        for (x, y) in [(b.lower, p.lower), (b.upper, p.upper)] {
            let (x, y) = (x.unwrap(), y.unwrap());
            assert!(
                (x - y).abs() < 0.15 * width,
                "{}: bootstrap {x}, profile {y}, width {width}",
                b.parameter
            );
        }
    }
}

/// The CLI, for what only a process shows: thread counts, exit codes, output.
fn cli(args: &[&str], threads: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lmm-report"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .expect("run lmm-report")
}

#[test]
fn bootstrap_replicates_are_identical_for_one_and_two_threads() {
    let dir = std::env::temp_dir().join(format!("lmm-infer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let path = dir.join(format!("reps{threads}.csv"));
        let out = cli(
            &[
                "fit",
                "--data",
                "data/sleepstudy.csv",
                "--formula",
                "Reaction ~ Days + (1 + Days | Subject)",
                "--reml",
                "--json",
                "--confint",
                "bootstrap",
                "--nsim",
                "400",
                "--seed",
                "7",
                "--replicates",
                path.to_str().unwrap(),
            ],
            threads,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push(out.stdout);
        files.push(std::fs::read_to_string(&path).unwrap());
    }
    assert_eq!(files[0], files[1]);
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(files[0].lines().count(), 401);
    assert!(files[0].starts_with(
        "replicate,objective,sigma,Subject.(Intercept),Subject.Days.(Intercept),Subject.Days,(Intercept),Days,converged\n"
    ));
    let json: Value = serde_json::from_slice(&outputs[0]).unwrap();
    assert_eq!(json["confint_method"], "bootstrap");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn fit_json_gains_the_inference_fields_in_order() {
    let out = cli(
        &[
            "fit",
            "--data",
            "data/r/Orthodont.csv",
            "--formula",
            "distance ~ age * Sex + (1 | Subject)",
            "--reml",
            "--json",
            "--ranef",
            "--fitted",
            "--confint",
            "wald",
        ],
        "2",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    common::assert_fit_json_inference_key_order(&text);
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["ddf"], "satterthwaite");
    let rf = &reference()["fits"][1];
    let want = &rf["satterthwaite"]["coefficients"][3];
    let got = &json["fixed"][3];
    assert_eq!(got["name"], "age:SexMale");
    close("df", f(&got["df"]), f(&want["df"]), 1e-3);
    close("p", f(&got["p_value"]), f(&want["p"]), 1e-3);
    close("t", f(&got["statistic"]), f(&want["t"]), 1e-6);
    assert_eq!(json["ranef"].as_array().unwrap().len(), 27);
    assert_eq!(json["fitted"].as_array().unwrap().len(), 108);
    assert_eq!(json["confint"][0]["parameter"], "sd_(Intercept)|Subject");
    assert!(json["confint"][0]["lower"].is_null());
    // --ddf none keeps the z tests and adds nothing.
    let out = cli(
        &[
            "fit",
            "--data",
            "data/r/Orthodont.csv",
            "--formula",
            "distance ~ age * Sex + (1 | Subject)",
            "--reml",
            "--json",
            "--ddf",
            "none",
        ],
        "2",
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("ddf").is_none() && json["fixed"][0].get("df").is_none());
}

#[test]
fn predict_and_anova_exit_codes() {
    let base = [
        "predict",
        "--data",
        "data/sleepstudy.csv",
        "--formula",
        "Reaction ~ Days + (1 + Days | Subject)",
        "--reml",
        "--newdata",
        "data/r/newdata_sleepstudy.csv",
    ];
    let out = cli(&base, "2");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("new level '999'"));
    let mut allowed = base.to_vec();
    allowed.push("--allow-new-levels");
    let out = cli(&allowed, "2");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Days,Subject,fit");
    assert_eq!(lines.len(), 5);
    let last: f64 = lines[4].rsplit(',').next().unwrap().parse().unwrap();
    close("new level = fixed part", last, 282.806962727274, 1e-6);
    let out = cli(
        &[
            "anova",
            "--data",
            "data/sleepstudy.csv",
            "--formula",
            "Reaction ~ Days + (1|Subject)",
            "--formula",
            "Reaction ~ Days + (1 + Days|Subject)",
            "--json",
        ],
        "2",
    );
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    close(
        "chisq",
        f(&json["tests"][0]["chisq"]),
        42.139298542025,
        1e-4,
    );
    assert_eq!(json["models"][1]["npar"], 6);
}

#[test]
fn bootstrap_spread_matches_bootmer() {
    use lmm_report::engine::inference::bootstrap::BootstrapOptions;
    // bootMer's standard deviations of the replicates (200 of them, timings.json).
    let text = std::fs::read_to_string("data/reference/timings.json").unwrap();
    let timings: Value = serde_json::from_str(&text).unwrap();
    let boot = timings["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "bootmer_sleepstudy_200")
        .unwrap();
    let want = &boot["boot_sd_of_estimates"];
    let t = table("sleepstudy.csv");
    let m = FittedModel::fit(
        "Reaction ~ Days + (1 + Days | Subject)",
        &t,
        &FitOptions::default().with_criterion(Criterion::Reml),
    )
    .unwrap();
    let reps = m
        .bootstrap(
            BootstrapOptions {
                nsim: 2000,
                seed: 3,
            },
            &|_| {},
        )
        .unwrap();
    let sd = |v: Vec<f64>| {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    };
    let names = m.theta_names();
    let mut got = vec![
        (
            "(Intercept)".to_owned(),
            sd(reps.iter().map(|r| r.beta[0]).collect()),
        ),
        (
            "Days".to_owned(),
            sd(reps.iter().map(|r| r.beta[1]).collect()),
        ),
        (
            "sigma".to_owned(),
            sd(reps.iter().map(|r| r.sigma).collect()),
        ),
    ];
    for (i, n) in names.iter().enumerate() {
        got.push((n.clone(), sd(reps.iter().map(|r| r.theta[i]).collect())));
    }
    // An SD from 200 replicates has a relative standard error of about 5 %; allow 20 %.
    for (name, value) in got {
        close(&format!("bootstrap sd {name}"), value, f(&want[&name]), 0.2);
    }
}

#[test]
fn predict_with_scale_and_poly_uses_the_training_parameters() {
    use lmm_report::engine::inference::predict::{predict, PredictOptions};
    use lmm_report::engine::{Column, Table};
    let t = table("sleepstudy.csv");
    for formula in [
        "Reaction ~ scale(Days) + (1 + Days | Subject)",
        "Reaction ~ poly(Days, 2) + (1 | Subject)",
    ] {
        let m = FittedModel::fit(formula, &t, &FitOptions::default()).unwrap();
        // The training rows as new data (without the response) reproduce the fitted values:
        // the transforms are not recomputed on the stacked data.
        let mut newdata = Table::new();
        for name in ["Days", "Subject"] {
            newdata.push(name, t.get(name).unwrap().clone());
        }
        let got = predict(&m, &t, &newdata, &PredictOptions::default()).unwrap();
        let fv = m.fitted_values();
        for (i, (g, want)) in got.iter().zip(&fv.fitted).enumerate() {
            close(
                &format!("{formula} [{i}]"),
                g.as_ref().unwrap().fit,
                *want,
                1e-10,
            );
        }
        // A few rows only (their own scale would differ): still the training parameters.
        let mut few = Table::new();
        few.push("Days", Column::Numeric(vec![Some(0.0), Some(9.0)]));
        few.push("Subject", Column::Integer(vec![Some(308), Some(308)]));
        let got = predict(&m, &t, &few, &PredictOptions::default()).unwrap();
        close(
            &format!("{formula} day 0"),
            got[0].as_ref().unwrap().fit,
            fv.fitted[0],
            1e-10,
        );
        close(
            &format!("{formula} day 9"),
            got[1].as_ref().unwrap().fit,
            fv.fitted[9],
            1e-10,
        );
    }
}

#[test]
fn satterthwaite_on_insteval_matches_lmertest() {
    let text = std::fs::read_to_string("data/reference/timings.json").unwrap();
    let timings: Value = serde_json::from_str(&text).unwrap();
    let want = timings["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "lmertest_instEval_satterthwaite")
        .unwrap();
    let t = table("r/InstEval.csv");
    let mut m = FittedModel::fit(
        "y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)",
        &t,
        &FitOptions::default(),
    )
    .unwrap();
    let start = std::time::Instant::now();
    let tests = m.coefficient_tests(Ddf::Satterthwaite).unwrap();
    eprintln!("InstEval Satterthwaite in {:?}", start.elapsed());
    for (g, w) in tests.iter().zip(want["coefficients"].as_array().unwrap()) {
        // lmerTest's fit used lme4's default control: its optimum, and so the standard errors,
        // differ from the tight optimum by ~1e-4 relative, which a p of 1e-25 on 16.7 df
        // amplifies about 17-fold; df and t are compared at the 1e-3.
        close(&format!("InstEval {} df", g.name), g.df, f(&w["df"]), 1e-3);
        close(
            &format!("InstEval {} t", g.name),
            g.statistic,
            f(&w["t"]),
            1e-3,
        );
        close(
            &format!("InstEval {} p", g.name),
            g.p_value,
            f(&w["p"]),
            5e-2,
        );
    }
}

#[test]
fn kenward_roger_refuses_large_models_naming_the_limit() {
    use lmm_report::engine::inference::InferenceError;
    use lmm_report::engine::{Column, Table};
    let n = 2100;
    let t = Table::new()
        .with(
            "y",
            Column::Numeric(
                (0..n)
                    .map(|i| Some(((i * 37) % 101) as f64 / 10.0 + (i % 30) as f64))
                    .collect(),
            ),
        )
        .with(
            "g",
            Column::Text((0..n).map(|i| Some(format!("g{}", i % 30))).collect()),
        );
    let mut m = FittedModel::fit(
        "y ~ 1 + (1 | g)",
        &t,
        &FitOptions::default().with_criterion(Criterion::Reml),
    )
    .unwrap();
    let err = m.coefficient_tests(Ddf::KenwardRoger).unwrap_err();
    assert!(
        matches!(
            err,
            InferenceError::TooLarge {
                n: 2100,
                limit: 2000,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("2000"), "{err}");
    assert!(err.is_input_error());
}

#[test]
fn offsets_enter_fitted_values_and_predictions() {
    use lmm_report::engine::inference::predict::{predict, PredictOptions};
    use lmm_report::engine::{Column, Table};
    let t = table("sleepstudy.csv");
    let m = FittedModel::fit(
        "Reaction ~ Days + offset(2 * Days) + (1 | Subject)",
        &t,
        &FitOptions::default(),
    )
    .unwrap();
    let fv = m.fitted_values();
    let Some(Column::Numeric(reaction)) = t.get("Reaction") else {
        panic!("Reaction is numeric")
    };
    // lme4: fitted + residuals = the response, the offset inside the fitted values.
    for (i, (f, r)) in fv.fitted.iter().zip(&fv.residuals).enumerate() {
        close(&format!("row {i}"), f + r, reaction[i].unwrap(), 1e-12);
    }
    let mut newdata = Table::new();
    for name in ["Days", "Subject"] {
        newdata.push(name, t.get(name).unwrap().clone());
    }
    let got = predict(&m, &t, &newdata, &PredictOptions::default()).unwrap();
    for (i, (g, want)) in got.iter().zip(&fv.fitted).enumerate() {
        close(
            &format!("predict row {i}"),
            g.as_ref().unwrap().fit,
            *want,
            1e-10,
        );
    }
}
