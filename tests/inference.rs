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
        let fv = lmm_report::engine::inference::fitted::fitted_values(m.fit_result(), m.matrices());
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
