//! Gamma GLMMs against lme4 1.1-31 (`data/reference/glmer_gamma.json`,
//! `scripts/r/10_glmer_gamma.R`, PIRLS to `tolPwrss = 1e-10`): sleepstudy's
//! `Reaction ~ Days + (1 | Subject)` with the log, inverse and identity links. lme4 plugs
//! the dispersion φ = deviance/n into the Gamma density (R's `Gamma()$aic`, plus 2), reports
//! σ = √((Pearson χ² + ‖u‖²)/n), scales standard errors and variance components by it, and
//! counts σ as a parameter (df 4). Log-likelihood to 1e-4; σ, θ, the random-effect SD, β and
//! standard errors to 1e-3 relative.

mod common;

use common::{close, close_abs, compare_glmm, reference_fit, table};
use lmm_report::engine::{fit, Column, Family, Fit, FitOptions, Link, Table};

const FORMULA: &str = "Reaction ~ Days + (1 | Subject)";

fn gamma(link: Link) -> FitOptions {
    FitOptions::default().with_family(Family::from_name("Gamma").unwrap().with_link(link).unwrap())
}

fn compare(link: Link) -> Fit {
    let id = format!("sleepstudy_gamma_{link}");
    let r = reference_fit("glmer_gamma.json", &id);
    let f = fit(FORMULA, &table("sleepstudy.csv"), &gamma(link)).unwrap();
    assert!(f.converged(), "{id}: {}", f.result().message);
    compare_glmm(&id, &f, &r);
    assert_eq!(
        f.result().dof as f64,
        r["df"].as_f64().unwrap(),
        "{id}: σ is a parameter"
    );
    close(
        &format!("{id} sigma"),
        f.result().sigma,
        r["sigma"].as_f64().unwrap(),
        1e-3,
    );
    close(
        &format!("{id} random sd"),
        f.result().variance_components[0].std_devs[0],
        r["random_sd"].as_f64().unwrap(),
        1e-3,
    );
    f
}

#[test]
fn log_link_matches_glmer() {
    let f = compare(Link::Log);
    let text = f.to_string();
    assert!(text.contains(" Family: Gamma ( log )"), "{text}");
    assert!(
        text.contains("Residual"),
        "σ is printed as the residual row: {text}"
    );
}

#[test]
fn inverse_link_matches_glmer() {
    compare(Link::Inverse);
}

#[test]
fn identity_link_matches_glmer() {
    compare(Link::Identity);
}

/// Reaction in microseconds instead of milliseconds: the inverse link's β and θ shrink by
/// 1000, the identity link's grow by 1000, the log-likelihood falls by n·log 1000 (the
/// density's Jacobian), σ is unchanged — the fit does not depend on the response's units.
#[test]
fn a_rescaled_response_gives_the_same_fit() {
    let data = table("sleepstudy.csv");
    let scaled = with_reaction(&data, |v| v.iter().map(|x| x.map(|x| x * 1000.0)).collect());
    let shift = data.nrows() as f64 * 1000f64.ln();
    for (link, power) in [
        (Link::Inverse, -1.0),
        (Link::Identity, 1.0),
        (Link::Log, 0.0),
    ] {
        let a = fit(FORMULA, &data, &gamma(link)).unwrap();
        let b = fit(FORMULA, &scaled, &gamma(link)).unwrap();
        assert!(a.converged() && b.converged(), "{link}");
        close_abs(
            &format!("{link} loglik"),
            b.loglik(),
            a.loglik() - shift,
            1e-6,
        );
        close(
            &format!("{link} sigma"),
            b.result().sigma,
            a.result().sigma,
            1e-5,
        );
        let factor = 1000f64.powf(power);
        close(
            &format!("{link} theta"),
            b.theta()[0],
            a.theta()[0] * factor,
            1e-4,
        );
        let slope = |f: &Fit| f.coefficients()[1].estimate;
        close(
            &format!("{link} slope"),
            slope(&b),
            slope(&a) * factor,
            1e-4,
        );
    }
}

#[test]
fn a_non_positive_response_names_the_row() {
    let bad = with_reaction(&table("sleepstudy.csv"), |v| {
        let mut v = v.to_vec();
        v[4] = Some(0.0);
        v
    });
    let e = fit(FORMULA, &bad, &gamma(Link::Log))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("data row 5") && e.contains("must be positive"),
        "{e}"
    );
}

/// `data` with its Reaction column replaced by `change` of it.
fn with_reaction(data: &Table, change: impl Fn(&[Option<f64>]) -> Vec<Option<f64>>) -> Table {
    let mut out = Table::new();
    for (name, column) in data.iter() {
        let column = match (name, column) {
            ("Reaction", Column::Numeric(v)) => Column::Numeric(change(v)),
            _ => column.clone(),
        };
        out.push(name, column);
    }
    out
}
