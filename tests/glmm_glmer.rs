//! GLMMs through the engine's one entry point (`lmm_engine::fit` with a family) against lme4
//! 1.1-31's `glmer` (bobyqa, `rhoend = 1e-12`), read from `data/reference/glmer.json`.
//!
//! The log-likelihood is compared with `loglik_tight` — lme4's fit re-run with
//! `tolPwrss = 1e-12`, i.e. at full PIRLS convergence, which is what the engine computes —
//! to 1e-4 absolute; β to 1e-3 relative (absolute for coefficients below 0.05 in size), its
//! standard errors to 1e-3 relative, and the variance components (standard deviations) to
//! 1e-3 relative, all against the same tight fit.

mod common;

use common::{close, close_abs, reference_fit, table};
use lmm_report::engine::{fit, Family, Fit, FitOptions, Link, Table};
use serde_json::Value;

fn reference(id: &str) -> Value {
    reference_fit("glmer.json", id)
}

fn family_of(r: &Value) -> Family {
    let link = Link::from_name(r["link"].as_str().unwrap()).unwrap();
    Family::from_name(r["family"].as_str().unwrap())
        .unwrap()
        .with_link(link)
        .unwrap()
}

fn glmm_fit(id: &str, data: &Table) -> (Fit, Value) {
    let r = reference(id);
    let nagq = r["nagq"].as_u64().unwrap() as usize;
    let options = FitOptions::default()
        .with_family(family_of(&r))
        .with_nagq(nagq.max(1))
        .with_fast(nagq == 0);
    let f =
        fit(r["formula"].as_str().unwrap(), data, &options).unwrap_or_else(|e| panic!("{id}: {e}"));
    (f, r)
}

/// Compares a fit with the tight reference fit of `id`.
fn compare(id: &str, data: &Table) -> Fit {
    let (f, r) = glmm_fit(id, data);
    let tight = &r["tight"];
    close_abs(
        &format!("{id} loglik"),
        f.loglik(),
        r["loglik_tight"].as_f64().unwrap(),
        1e-4,
    );
    let fixed = tight["fixed"].as_array().unwrap();
    assert_eq!(f.coefficients().len(), fixed.len(), "{id}");
    for (got, want) in f.coefficients().iter().zip(fixed) {
        assert_eq!(got.name, want["name"].as_str().unwrap(), "{id}");
        let b = want["estimate"].as_f64().unwrap();
        let what = format!("{id} beta {}", got.name);
        if b.abs() < 0.05 {
            close_abs(&what, got.estimate, b, 5e-5);
        } else {
            close(&what, got.estimate, b, 1e-3);
        }
        close(
            &format!("{id} se {}", got.name),
            got.std_error,
            want["std_error"].as_f64().unwrap(),
            1e-3,
        );
    }
    for want in tight["random"].as_array().unwrap() {
        if !want["var2"].is_null() {
            continue;
        }
        let group = want["group"].as_str().unwrap();
        let column = want["var1"].as_str().unwrap();
        let vc = f
            .variance_components()
            .iter()
            .find(|v| v.group == group && v.columns.iter().any(|c| c == column))
            .unwrap_or_else(|| panic!("{id}: no component {group}/{column}"));
        let j = vc.columns.iter().position(|c| c == column).unwrap();
        let sd = want["sdcor"].as_f64().unwrap();
        let what = format!("{id} sd {group}/{column}");
        if sd < 0.05 {
            close_abs(&what, vc.std_devs[j], sd, 2e-3);
        } else {
            close(&what, vc.std_devs[j], sd, 1e-3);
        }
    }
    assert_eq!(
        f.singular(),
        tight["singular"].as_bool().unwrap(),
        "{id} singular"
    );
    let info = f.glmm().expect("a GLMM fit");
    assert_eq!(
        info.df_resid as u64,
        r["df_resid"].as_u64().unwrap(),
        "{id}"
    );
    f
}

#[test]
fn cbpp_logit_laplace() {
    let f = compare("cbpp_logit_laplace", &table("r/cbpp.csv"));
    assert!(f.converged(), "{}", f.result().message);
    let r = reference("cbpp_logit_laplace");
    close_abs(
        "cbpp deviance",
        f.glmm().unwrap().deviance,
        r["tight"]["deviance"].as_f64().unwrap(),
        1e-3,
    );
}

#[test]
fn cbpp_logit_agq25() {
    let f = compare("cbpp_logit_agq25", &table("r/cbpp.csv"));
    assert!(f.converged(), "{}", f.result().message);
    assert_eq!(f.glmm().unwrap().nagq, 25);
}

#[test]
fn cbpp_logit_fast() {
    let f = compare("cbpp_logit_nagq0", &table("r/cbpp.csv"));
    assert_eq!(f.glmm().unwrap().nagq, 0);
}

#[test]
fn cbpp_probit_laplace() {
    compare("cbpp_probit_laplace", &table("r/cbpp.csv"));
}

#[test]
fn cbpp_cloglog_laplace() {
    compare("cbpp_cloglog_laplace", &table("r/cbpp.csv"));
}

#[test]
fn cbpp_poisson_with_offset() {
    compare("cbpp_pois_offset_laplace", &table("r/cbpp.csv"));
}

#[test]
fn grouseticks_poisson_three_factors() {
    let data = table("r/grouseticks.csv");
    compare("grouseticks_pois_laplace", &data);
    compare("grouseticks_pois_scaled_laplace", &data);
}

#[test]
fn verbagg_laplace_and_fast() {
    let data = table("r/VerbAgg.csv");
    let f = compare("verbagg_laplace", &data);
    assert!(f.converged(), "{}", f.result().message);
    compare("verbagg_nagq0", &data);
}

#[test]
fn bernoulli_random_slope() {
    let f = compare(
        "sim_bernoulli_slope_laplace",
        &table("r/sim_bernoulli_slope.csv"),
    );
    assert!(f.converged(), "{}", f.result().message);
}

#[test]
fn singular_bernoulli_random_slope() {
    let f = compare("verbagg_bernoulli_slope_laplace", &table("r/VerbAgg.csv"));
    assert!(f.singular());
    assert!(
        f.notes().iter().any(|n| n.contains("singular")),
        "{:?}",
        f.notes()
    );
}
