//! Formula transforms, declared factors, contrasts, offsets and prior weights against lme4
//! 1.1-31 (R 4.2.2, bobyqa with `rhoend = 1e-12`), read from
//! `data/reference/lme4_formula.json`: objective (1e-6 absolute), β, standard errors, σ,
//! variance components and θ (1e-5 relative, looser only where stated), and the coefficient
//! names exactly as R prints them. Each test prints the largest relative difference it saw
//! (`cargo test --release --test lme4_formula -- --nocapture`).

mod common;

use common::{close_abs, lme4_formula, table, FormulaFit, Worst};
use lmm_report::engine::{fit, Contrasts, Criterion, Fit, FitOptions, OptimizerChoice};

fn options_for(reference: &FormulaFit) -> FitOptions {
    let mut options = FitOptions::default().with_criterion(match reference.criterion.as_str() {
        "ML" => Criterion::Ml,
        _ => Criterion::Reml,
    });
    if let Some(w) = &reference.weights {
        options = options.with_weights(w.clone());
    }
    for (name, c) in reference.contrasts.iter().flatten() {
        let c = Contrasts::from_name(c.as_str().unwrap()).expect("known contrasts");
        options = options.with_contrasts(name.clone(), c);
    }
    options
}

/// Fits the reference's model to its data and compares everything; returns the fit and the
/// largest relative difference.
fn check(id: &str, options: FitOptions, theta_rel: f64) -> (Fit, Worst) {
    let reference = lme4_formula(id);
    let data = table(&reference.data_path());
    let fitted = fit(&reference.formula, &data, &options).unwrap_or_else(|e| panic!("{id}: {e}"));
    let mut worst = Worst::default();
    assert!(fitted.converged(), "{id}: {}", fitted.result().message);
    assert_eq!(fitted.singular(), reference.singular, "{id}");
    assert_eq!(fitted.result().nobs, reference.nobs, "{id}");
    close_abs(
        &format!("{id} objective"),
        fitted.objective(),
        reference.objective,
        1e-6,
    );
    worst.close(
        &format!("{id} objective"),
        fitted.objective(),
        reference.objective,
        1e-9,
    );
    worst.close(
        &format!("{id} loglik"),
        fitted.loglik(),
        reference.loglik,
        1e-9,
    );
    worst.close(
        &format!("{id} sigma"),
        fitted.sigma(),
        reference.sigma,
        1e-5,
    );
    let names: Vec<&str> = fitted
        .coefficients()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, reference.coef_names_printed, "{id}");
    for (got, want) in fitted.coefficients().iter().zip(&reference.fixed) {
        assert_eq!(got.name, want.name);
        // A coefficient that is zero in exact arithmetic (an orthogonal contrast) is compared
        // at the scale of its standard error.
        if want.estimate.abs() < 1e-6 * want.std_error {
            close_abs(
                &got.name,
                got.estimate,
                want.estimate,
                1e-6 * want.std_error,
            );
        } else {
            worst.close(
                &format!("{id} beta {}", got.name),
                got.estimate,
                want.estimate,
                1e-5,
            );
        }
        worst.close(
            &format!("{id} se {}", got.name),
            got.std_error,
            want.std_error,
            1e-5,
        );
    }
    // Variance components by group and column, as lme4's VarCorr rows.
    for row in &reference.random {
        if row.group == "Residual" {
            worst.close(
                &format!("{id} residual variance"),
                fitted.result().residual_variance(),
                row.vcov,
                1e-5,
            );
            continue;
        }
        let vc = fitted
            .variance_components()
            .iter()
            .find(|vc| vc.group == row.group)
            .unwrap_or_else(|| panic!("{id}: no group {}", row.group));
        let var1 = row.var1.as_deref().unwrap();
        let i = vc
            .columns
            .iter()
            .position(|c| c == var1)
            .unwrap_or_else(|| {
                panic!(
                    "{id}: group {} has no column {var1}: {:?}",
                    row.group, vc.columns
                )
            });
        match &row.var2 {
            None => worst.close(
                &format!("{id} variance {}/{var1}", row.group),
                vc.variances[i],
                row.vcov,
                1e-5,
            ),
            Some(var2) => {
                let j = vc.columns.iter().position(|c| c == var2).unwrap();
                // Correlations near zero are compared absolutely.
                close_abs(
                    &format!("{id} correlation {}/{var1}/{var2}", row.group),
                    vc.correlation(i, j),
                    row.sdcor,
                    1e-4,
                );
            }
        }
    }
    for (group, levels) in &reference.ngroups {
        let g = fitted
            .result()
            .groups
            .iter()
            .find(|g| g.name == *group)
            .unwrap_or_else(|| panic!("{id}: no grouping factor {group}"));
        assert_eq!(g.levels as u64, levels.as_u64().unwrap(), "{id} {group}");
    }
    let want = reference.theta_values();
    let scale = want.iter().fold(0.0_f64, |m, t| m.max(t.abs()));
    assert_eq!(fitted.theta().len(), want.len(), "{id} theta");
    for (k, (got, want)) in fitted.theta().iter().zip(&want).enumerate() {
        // Small off-diagonal θ are compared at the scale of the largest.
        close_abs(&format!("{id} theta[{k}]"), *got, *want, theta_rel * scale);
    }
    eprintln!(
        "{id}: largest relative difference {:.1e} ({})",
        worst.rel, worst.what
    );
    (fitted, worst)
}

fn check_default(id: &str) -> (Fit, Worst) {
    let options = options_for(&lme4_formula(id));
    check(id, options, 1e-5)
}

#[test]
fn chickweight_factor_diet_matches_lme4() {
    check_default("chick_factor_diet_ml");
}

#[test]
fn chickweight_numeric_diet_matches_lme4_and_is_noted() {
    let (fitted, _) = check_default("chick_numeric_diet_ml");
    assert!(
        fitted.notes().iter().any(|n| n
            == "Diet has 4 distinct integer values and is treated as numeric; write \
                factor(Diet) for a categorical effect"),
        "{:?}",
        fitted.notes()
    );
}

/// `--factor Diet` gives lme4's factor(Diet) model with the column's own names.
#[test]
fn declared_factor_is_the_factor_model() {
    let reference = lme4_formula("chick_factor_diet_ml");
    let data = table(&reference.data_path());
    let options = FitOptions::default().with_factor("Diet");
    let fitted = fit("weight ~ Time * Diet + (1 + Time | Chick)", &data, &options).unwrap();
    close_abs("objective", fitted.objective(), reference.objective, 1e-6);
    assert_eq!(fitted.coefficients()[2].name, "Diet2");
    assert_eq!(fitted.coefficients()[7].name, "Time:Diet4");
    assert!(fitted.notes().is_empty(), "{:?}", fitted.notes());
}

#[test]
fn orthogonal_polynomial_matches_lme4() {
    check_default("sleep_poly2_slope_ml");
}

#[test]
fn raw_polynomial_matches_lme4() {
    check_default("sleep_poly2raw_ml");
}

#[test]
fn log_response_reml_matches_lme4() {
    check_default("sleep_logresp_reml");
}

#[test]
fn arithmetic_in_i_matches_lme4() {
    check_default("sleep_Isq_ml");
}

#[test]
fn scale_in_a_random_term_matches_lme4() {
    check_default("sleep_scale_in_re_ml");
}

#[test]
fn log1p_and_sqrt_match_lme4() {
    check_default("sleep_log1p_sqrt_ml");
}

#[test]
fn offset_matches_lme4() {
    check_default("sleep_offset_ml");
}

#[test]
fn prior_weights_ml_and_reml_match_lme4() {
    check_default("sleep_weighted_ml");
    check_default("sleep_weighted_reml");
}

#[test]
fn prior_weights_with_bobyqa_match_lme4() {
    for id in ["sleep_weighted_ml", "sleep_weighted_reml"] {
        let options = options_for(&lme4_formula(id)).with_optimizer(OptimizerChoice::Bobyqa);
        check(id, options, 1e-4);
    }
}

#[test]
fn sum_contrasts_match_lme4() {
    check_default("orthodont_contrsum_ml");
}

#[test]
fn helmert_contrasts_reml_match_lme4() {
    check_default("oats_helmert_reml");
}

/// R's poly basis itself, as recorded (`predict(poly(sleepstudy$Days, 2), 0:9)`).
#[test]
fn poly_basis_is_rs() {
    let text = std::fs::read_to_string("data/reference/lme4_formula.json").unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let recorded = &v["poly_days_2"]["model_matrix_first10"];
    let data = table("sleepstudy.csv");
    let formula = lmm_report::engine::Formula::parse("Reaction ~ poly(Days, 2)").unwrap();
    let m = lmm_report::engine::ModelMatrices::build(&formula, &data).unwrap();
    for i in 0..10 {
        for j in 0..3 {
            let want = recorded[i][j].as_f64().unwrap();
            close_abs(&format!("X[{i},{j}]"), m.x[(i, j)], want, 1e-14);
        }
    }
}
