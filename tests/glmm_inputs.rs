//! GLMM input handling through `lmm_engine::fit`: responses outside the family's support are
//! errors naming the data row, `cbind()` and text responses follow R's `binomial()` rules, a
//! proportion with trials as weights is the same model as `cbind`, the Gaussian family is the
//! unchanged LMM, and complete separation ends in a clear message, never a panic.

mod common;

use common::{close_abs, table};
use lmm_report::engine::{fit, Column, Error, Family, FitOptions, Link, Table};

const CBPP: &str = "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)";

fn binomial() -> FitOptions {
    FitOptions::default().with_family(Family::Binomial(Link::Logit))
}

fn poisson() -> FitOptions {
    FitOptions::default().with_family(Family::Poisson(Link::Log))
}

/// cbpp with one cell replaced.
fn cbpp_with(column: &str, row: usize, value: i64) -> Table {
    let t = table("r/cbpp.csv");
    let mut out = Table::new();
    for (name, col) in t.iter() {
        let mut col = col.clone();
        if name == column {
            match &mut col {
                Column::Integer(v) => v[row] = Some(value),
                Column::Numeric(v) => v[row] = Some(value as f64),
                Column::Text(_) => unreachable!(),
            }
        }
        out = out.with(name, col);
    }
    out
}

fn message(result: Result<lmm_report::engine::Fit, Error>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            assert!(e.is_input_error(), "{e}");
            e.to_string()
        }
    }
}

#[test]
fn a_negative_count_names_the_row() {
    let data = cbpp_with("incidence", 6, -1);
    let m = message(fit(
        "incidence ~ factor(period) + (1 | herd)",
        &data,
        &poisson(),
    ));
    assert!(m.contains("data row 7") && m.contains("negative"), "{m}");
    assert!(
        m.contains("outside the poisson family's support") && !m.contains("  "),
        "{m}"
    );
}

#[test]
fn a_fractional_count_names_the_row() {
    let mut data = table("r/cbpp.csv");
    let mut y: Vec<Option<f64>> = match data.get("incidence").unwrap() {
        Column::Integer(v) => v.iter().map(|v| v.map(|v| v as f64)).collect(),
        _ => unreachable!(),
    };
    y[3] = Some(2.5);
    data = data.with("y", Column::Numeric(y));
    let m = message(fit("y ~ factor(period) + (1 | herd)", &data, &poisson()));
    assert!(
        m.contains("data row 4") && m.contains("whole number"),
        "{m}"
    );
}

#[test]
fn a_proportion_above_one_names_the_row() {
    let data = table("r/cbpp.csv");
    let m = message(fit(
        "I(incidence / size * 2) ~ factor(period) + (1 | herd)",
        &data,
        &binomial(),
    ));
    assert!(m.contains("[0, 1]") && m.contains("data row"), "{m}");
}

#[test]
fn a_negative_cbind_side_names_the_row_and_side() {
    let data = cbpp_with("incidence", 10, 1000);
    let m = message(fit(CBPP, &data, &binomial()));
    assert!(
        m.contains("data row 11") && m.contains("failures (size - incidence)"),
        "{m}"
    );
}

#[test]
fn cbind_needs_the_binomial_family() {
    let data = table("r/cbpp.csv");
    let m = message(fit(CBPP, &data, &FitOptions::default()));
    assert!(m.contains("binomial"), "{m}");
    let m = message(fit(CBPP, &data, &poisson()));
    assert!(m.contains("binomial"), "{m}");
    let e = fit("y ~ cbind(a, b) + (1 | g)", &data, &binomial()).unwrap_err();
    assert!(e.to_string().contains("only be the response"), "{e}");
}

#[test]
fn a_proportion_with_trials_as_weights_is_the_cbind_model() {
    let mut data = table("r/cbpp.csv");
    let (inc, size) = match (data.get("incidence").unwrap(), data.get("size").unwrap()) {
        (Column::Integer(a), Column::Integer(b)) => (a.clone(), b.clone()),
        _ => unreachable!(),
    };
    let prop = inc
        .iter()
        .zip(&size)
        .map(|(a, b)| Some(a.unwrap() as f64 / b.unwrap() as f64))
        .collect();
    data = data.with("prop", Column::Numeric(prop));
    let counts = fit(CBPP, &data, &binomial()).unwrap();
    let proportion = fit(
        "prop ~ factor(period) + (1 | herd)",
        &data,
        &binomial().with_weights("size"),
    )
    .unwrap();
    close_abs("loglik", proportion.loglik(), counts.loglik(), 1e-6);
    for (a, b) in proportion.beta().iter().zip(counts.beta()) {
        close_abs("beta", *a, b, 1e-5);
    }
}

#[test]
fn a_text_response_is_binomial_and_not_poisson() {
    let data = table("r/VerbAgg.csv");
    let m = message(fit("r2 ~ btype + (1 | item)", &data, &poisson()));
    assert!(m.contains("text"), "{m}");
    let f = fit("r2 ~ btype + (1 | item)", &data, &binomial()).unwrap();
    // "N" < "Y": Y is the success, as R's factor levels make it.
    assert!(f.beta()[0] > -1.0 && f.beta()[1] < 0.0, "{:?}", f.beta());
}

#[test]
fn quadrature_needs_one_scalar_term() {
    let data = table("r/VerbAgg.csv");
    let e = fit(
        "r2 ~ btype + (1 | id) + (1 | item)",
        &data,
        &binomial().with_nagq(5),
    )
    .unwrap_err();
    assert!(e.to_string().contains("single scalar"), "{e}");
}

#[test]
fn complete_separation_is_reported_not_a_panic() {
    // y = 1 exactly when x > 0: the likelihood increases without bound in β₁.
    let n = 60;
    let x: Vec<Option<f64>> = (0..n).map(|i| Some(i as f64 / 10.0 - 2.95)).collect();
    let y: Vec<Option<f64>> = x
        .iter()
        .map(|x| Some(f64::from(x.unwrap() > 0.0)))
        .collect();
    let g: Vec<Option<String>> = (0..n).map(|i| Some(format!("g{}", i % 6))).collect();
    let data = Table::new()
        .with("y", Column::Numeric(y))
        .with("x", Column::Numeric(x))
        .with("g", Column::Text(g));
    match fit("y ~ x + (1 | g)", &data, &binomial()) {
        Ok(f) => assert!(
            f.notes().iter().any(|n| n.contains("separation")),
            "{:?}",
            f.notes()
        ),
        Err(e) => assert!(e.to_string().contains("separation"), "{e}"),
    }
}
