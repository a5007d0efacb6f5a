//! The engine's public API (`lmm_engine::fit`, `LinearMixedModel`) against lme4 1.1-31 (R 4.2.2,
//! bobyqa with `rhoend = 1e-12`) on the gasoline and sleepstudy models; the reference numbers
//! are read from `data/reference/lme4.json`. Tolerances: objective 1e-6 absolute, parameters
//! 1e-5 relative (and tighter where the optimiser's precision allows).

mod common;

use common::{
    assert_fit_json_key_order, close, close_abs, gasoline_table, lme4, lme4_extra, table, Lme4Fit,
};
use lmm_report::engine::{
    fit, Criterion, Fit, FitOptions, Formula, LinearMixedModel, ModelMatrices, OptimizerChoice,
    Table,
};

const GASOLINE: &str = "LCarPCap ~ 1 + Time + LIncomeP + LRPMG + (1|Country)";
const SLEEP: &str = "Reaction ~ 1 + Days + (1 + Days|Subject)";
const SLEEP_UNCORRELATED: &str = "Reaction ~ 1 + Days + (1 + Days||Subject)";

fn criterion_of(reference: &Lme4Fit) -> Criterion {
    match reference.criterion.as_str() {
        "ML" => Criterion::Ml,
        _ => Criterion::Reml,
    }
}

fn fit_with(table: &Table, formula: &str, criterion: Criterion) -> Fit {
    fit(
        formula,
        table,
        &FitOptions::default().with_criterion(criterion),
    )
    .expect("fit")
}

fn model(table: &Table, formula: &str) -> LinearMixedModel {
    let matrices = ModelMatrices::build(&Formula::parse(formula).unwrap(), table).unwrap();
    LinearMixedModel::new(&matrices).unwrap()
}

fn check_objective(fit: &Fit, want: f64) {
    close_abs("objective", fit.objective(), want, 1e-6);
    assert!(fit.converged(), "{}", fit.result().message);
    assert!(!fit.singular());
}

/// Objective, log-likelihood, θ, σ, β, standard errors and the variances against lme4.
fn check_against(fit: &Fit, reference: &Lme4Fit, group: &str) {
    check_objective(fit, reference.objective);
    close("loglik", fit.loglik(), reference.loglik, 1e-8);
    close("sigma", fit.sigma(), reference.sigma, 1e-6);
    for (got, want) in fit.coefficients().iter().zip(&reference.fixed) {
        assert_eq!(got.name, want.name);
        close(
            &format!("beta {}", got.name),
            got.estimate,
            want.estimate,
            1e-5,
        );
        close(
            &format!("se {}", got.name),
            got.std_error,
            want.std_error,
            1e-5,
        );
    }
    let vc = &fit.variance_components()[0];
    assert_eq!(vc.group, group);
    for (j, column) in vc.columns.iter().enumerate() {
        close(
            &format!("{group} {column} variance"),
            vc.variances[j],
            reference.variance(group, column),
            1e-5,
        );
    }
    close(
        "residual variance",
        fit.result().residual_variance(),
        reference.residual_variance(),
        1e-6,
    );
    assert_eq!(fit.result().nobs, reference.nobs);
}

#[test]
fn gasoline_ml_and_reml_match_lme4() {
    let table = gasoline_table();
    for criterion in ["ML", "REML"] {
        let reference = lme4("gasoline", criterion);
        let fit = fit_with(&table, GASOLINE, criterion_of(&reference));
        check_against(&fit, &reference, "Country");
        close("theta", fit.theta()[0], reference.theta()[0], 1e-5);
        assert_eq!(fit.result().groups[0].levels, 18);
        assert_eq!(fit.result().dof, 6);
    }
}

#[test]
fn sleepstudy_ml_and_reml_match_lme4() {
    let table = table("sleepstudy.csv");
    for criterion in ["ML", "REML"] {
        let reference = lme4("sleepstudy_slopes", criterion);
        let fit = fit_with(&table, SLEEP, criterion_of(&reference));
        check_against(&fit, &reference, "Subject");
        for (got, want) in fit.theta().iter().zip(reference.theta()) {
            close("theta", *got, want, 1e-5);
        }
        let vc = &fit.variance_components()[0];
        let rho = reference.correlation("Subject", "(Intercept)", "Days");
        close("correlation", vc.correlation(0, 1), rho, 1e-4);
        close("correlation", vc.correlation(1, 0), rho, 1e-4);
        assert_eq!(fit.result().dof, 6);
    }
}

/// The objective at lme4's optimum equals lme4's objective to rounding: checks the
/// profiled deviance itself, independently of the optimiser.
#[test]
fn objective_at_lme4_theta_matches_lme4() {
    for (id, table, formula) in [
        ("gasoline", gasoline_table(), GASOLINE),
        ("sleepstudy_slopes", table("sleepstudy.csv"), SLEEP),
    ] {
        let mut model = model(&table, formula);
        for criterion in ["ML", "REML"] {
            let reference = lme4(id, criterion);
            let d = model.objective(&reference.theta(), criterion_of(&reference));
            close_abs(&format!("{id} {criterion}"), d, reference.objective, 1e-8);
        }
    }
}

/// Uncorrelated slopes `(1 + Days||Subject)`: two terms with the same group. lme4 prints
/// deviance 1752.0 (ML) for this model (`anova(fm2, fm1)` in the lme4 vignette); the
/// objective must equal the correlated model's at zero correlation, and the fit must report
/// one grouping factor.
#[test]
fn sleepstudy_uncorrelated_terms_share_a_group() {
    let table = table("sleepstudy.csv");
    let fit = fit_with(&table, SLEEP_UNCORRELATED, Criterion::Ml);
    assert!(fit.converged());
    assert_eq!(fit.theta().len(), 2);
    assert_eq!(fit.result().groups.len(), 1);
    assert_eq!(fit.variance_components().len(), 2);
    close_abs("objective", fit.objective(), 1752.0, 0.05);
    // Cross-check: the correlated model's objective at θ = [θ₁, 0, θ₂] is the same.
    let mut full = model(&table, SLEEP);
    let d = full.objective(&[fit.theta()[0], 0.0, fit.theta()[1]], Criterion::Ml);
    close_abs("objective at zero correlation", d, fit.objective(), 1e-9);
}

#[test]
fn summary_and_json_have_the_documented_shape() {
    let fit = fit_with(&table("sleepstudy.csv"), SLEEP, Criterion::Ml);
    let text = fit.to_string();
    assert!(text.starts_with("Linear mixed model fit by maximum likelihood\n"));
    assert!(text.contains(SLEEP));
    assert!(text.contains("logLik"));
    assert!(text.contains("-875.9697"));
    assert!(text.contains("Variance components:"));
    assert!(text.contains("Number of obs: 180; levels of grouping factors: 18"));
    assert!(text.contains("Fixed-effects parameters:"));
    assert!(text.contains("Pr(>|z|)"));
    assert!(text.contains("+0.08"));
    assert_eq!(text, fit.summary().to_string());

    let json = serde_json::to_value(&fit).unwrap();
    assert!(json.as_object().unwrap().contains_key("correlations"));
    let text = fit.to_json().to_string_pretty();
    assert_fit_json_key_order(&text);
    assert_eq!(json["criterion"], "ML");
    assert_eq!(json["random"].as_array().unwrap().len(), 3);
    assert_eq!(json["random"][2]["group"], "Residual");
    assert_eq!(json["correlations"][0]["term2"], "Days");
    assert_eq!(json["groups"][0]["levels"], 18);
    assert_eq!(json["fixed"][1]["name"], "Days");

    let reml = fit_with(&gasoline_table(), GASOLINE, Criterion::Reml);
    let text = reml.to_string();
    assert!(text.starts_with("Linear mixed model fit by REML\n"));
    assert!(text.contains("REML criterion at convergence: -97.7224"));
    // No term with two columns: no correlations, so no Corr. column.
    assert!(!text.contains("Corr."), "{text}");
    assert_eq!(serde_json::to_value(&reml).unwrap()["criterion"], "REML");
}

#[test]
fn conditional_modes_have_level_names_and_positive_sds() {
    let fit = fit_with(&table("sleepstudy.csv"), SLEEP, Criterion::Ml);
    let re = &fit.conditional_modes()[0];
    assert_eq!(re.levels.len(), 18);
    assert_eq!(re.levels[0], "308");
    assert_eq!(re.modes.len(), 36);
    assert!(re.conditional_sd.iter().all(|&s| s > 0.0 && s.is_finite()));
    // Modes of a random intercept sum to (about) zero when X contains an intercept.
    let sum: f64 = (0..18).map(|l| re.mode(l, 0)).sum();
    close_abs("sum of intercept modes", sum, 0.0, 1e-6);
}

/// The derivative-free path (BOBYQA, what lme4 uses) reaches lme4's optimum too.
#[test]
fn bobyqa_also_matches_lme4() {
    for (id, table, formula) in [
        ("gasoline", gasoline_table(), GASOLINE),
        ("sleepstudy_slopes", table("sleepstudy.csv"), SLEEP),
    ] {
        for criterion in ["ML", "REML"] {
            let reference = lme4(id, criterion);
            let options = FitOptions::default()
                .with_criterion(criterion_of(&reference))
                .with_optimizer(OptimizerChoice::Bobyqa);
            let fit = fit(formula, &table, &options).unwrap();
            assert!(
                fit.result().message.starts_with("BOBYQA"),
                "{}",
                fit.result().message
            );
            check_objective(&fit, reference.objective);
            for (got, want) in fit.theta().iter().zip(reference.theta()) {
                close("theta", *got, want, 1e-4);
            }
        }
    }
}

/// The report's random-slope extension (the post's "time random effect"): uncorrelated and
/// correlated slopes for Time by country, ML, against lme4 (data/reference/lme4_extra.json).
#[test]
fn gasoline_time_slopes_match_lme4() {
    let table = gasoline_table();
    for id in [
        "gasoline_uncorrelated_time_slope",
        "gasoline_correlated_time_slope",
    ] {
        let reference = lme4_extra(id);
        let fit = fit_with(&table, &reference.formula, Criterion::Ml);
        assert!(fit.converged(), "{id}: {}", fit.result().message);
        close_abs(
            &format!("{id} objective"),
            fit.objective(),
            reference.objective,
            1e-6,
        );
        for (got, want) in fit.beta().iter().zip(&reference.beta) {
            close(&format!("{id} beta"), *got, *want, 1e-5);
        }
        for (got, want) in fit.theta().iter().zip(&reference.theta) {
            close_abs(
                &format!("{id} theta"),
                *got,
                *want,
                1e-4 * reference.theta[0],
            );
        }
    }
}

/// Group slopes that vary around a common intercept: the fit is singular, the intercept's
/// variance is zero and its correlation with the slope undefined, shown as `NaN` in the
/// summary and `null` in JSON (as lme4's VarCorr shows NaN); the fixed effects in JSON carry z
/// and the p-value.
#[test]
fn undefined_correlation_is_nan_and_null() {
    use lmm_report::engine::Column;
    let (mut y, mut x, mut g) = (Vec::new(), Vec::new(), Vec::new());
    for group in 0..8 {
        for i in 0..10 {
            let noise = (((i * 7) % 11) as f64 - 5.0) / 5.0;
            x.push(Some(i as f64));
            let slope = 0.5 + 0.3 * ((group % 4) as f64 - 1.5);
            y.push(Some(10.0 + slope * i as f64 + 0.2 * noise));
            g.push(Some(format!("g{group}")));
        }
    }
    let table = Table::new()
        .with("y", Column::Numeric(y))
        .with("x", Column::Numeric(x))
        .with("g", Column::Text(g));
    let fitted = fit_with(&table, "y ~ 1 + x + (1 + x | g)", Criterion::Ml);
    assert!(fitted.singular(), "{:?}", fitted.theta());
    let vc = &fitted.variance_components()[0];
    assert_eq!(vc.variances[0], 0.0, "{:?}", fitted.theta());
    assert!(vc.correlation(0, 1).is_nan());
    let text = fitted.to_string();
    assert!(text.contains("NaN"), "{text}");
    assert!(!text.contains("+0.00"), "{text}");
    let json = serde_json::to_value(&fitted).unwrap();
    assert!(json["correlations"][0]["correlation"].is_null(), "{json}");
    let fixed = &json["fixed"][1];
    let (b, se) = (
        fixed["estimate"].as_f64().unwrap(),
        fixed["std_error"].as_f64().unwrap(),
    );
    close("z", fixed["z"].as_f64().unwrap(), b / se, 1e-12);
    let z = b / se;
    close(
        "p",
        fixed["p_value"].as_f64().unwrap(),
        lmm_report::engine::two_sided_p(z),
        1e-12,
    );
    assert!(json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().starts_with("boundary (singular) fit")));
}
