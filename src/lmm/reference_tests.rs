//! Fits of the gasoline and sleepstudy models checked against lme4 1.1-31 (R 4.2.2, bobyqa
//! with `rhoend = 1e-12`), numbers copied from the project's recorded reference fits.
//! Tolerances: objective 1e-6 absolute, parameters 1e-5 relative (and tighter where the
//! optimiser's precision allows).

use super::test_data::{gasoline, sleepstudy};
use super::{Criterion, FitOptions, FitResult, LinearMixedModel};

fn close(got: f64, want: f64, rel: f64, what: &str) {
    let err = (got - want).abs() / want.abs().max(1e-300);
    assert!(
        err <= rel,
        "{what}: got {got}, want {want} (relative error {err:.2e})"
    );
}

fn fit(mm: &crate::design::ModelMatrices, criterion: Criterion) -> FitResult {
    let mut model = LinearMixedModel::new(mm).expect("model");
    model.fit(criterion, &FitOptions::default()).expect("fit")
}

fn check_objective(fit: &FitResult, want: f64) {
    assert!(
        (fit.objective - want).abs() < 1e-6,
        "objective {} vs lme4 {want} (diff {:.2e})",
        fit.objective,
        fit.objective - want
    );
    assert!(fit.converged, "{}", fit.message);
    assert!(!fit.singular);
}

#[test]
fn gasoline_ml_matches_lme4() {
    let fit = fit(&gasoline(), Criterion::Ml);
    check_objective(&fit, -115.045957587785);
    close(fit.loglik, 57.5229787938927, 1e-8, "loglik");
    close(fit.theta[0], 7.49361955722811, 1e-5, "theta");
    close(fit.sigma, 0.170222818925618, 1e-6, "sigma");
    let beta = [
        6.69452345487199,
        -0.0124491506129169,
        2.57169367031161,
        -0.195353329678242,
    ];
    let se = [
        0.727784533170277,
        0.00439072984699619,
        0.104948536341753,
        0.080713272281907,
    ];
    for i in 0..4 {
        close(fit.fixed[i].estimate, beta[i], 1e-5, "beta");
        close(fit.fixed[i].std_error, se[i], 1e-5, "se");
    }
    close(
        fit.variance_components[0].variances[0],
        1.6271172069958,
        1e-5,
        "Country variance",
    );
    close(
        fit.residual_variance(),
        0.0289758080829839,
        1e-6,
        "residual variance",
    );
    assert_eq!(fit.nobs, 342);
    assert_eq!(fit.groups[0].levels, 18);
    assert_eq!(fit.dof, 6);
}

#[test]
fn gasoline_reml_matches_lme4() {
    let fit = fit(&gasoline(), Criterion::Reml);
    check_objective(&fit, -97.7224093751425);
    close(fit.loglik, 48.8612046875712, 1e-8, "loglik");
    close(fit.theta[0], 7.71280476360759, 1e-5, "theta");
    close(fit.sigma, 0.170974027106208, 1e-6, "sigma");
    let beta = [
        6.72064188373954,
        -0.0125678380180387,
        2.57563008637444,
        -0.192531044696942,
    ];
    let se = [
        0.735466642641941,
        0.00441386383250728,
        0.105541409922177,
        0.0811445620866616,
    ];
    for i in 0..4 {
        close(fit.fixed[i].estimate, beta[i], 1e-5, "beta");
        close(fit.fixed[i].std_error, se[i], 1e-5, "se");
    }
    close(
        fit.variance_components[0].variances[0],
        1.73894144545416,
        1e-5,
        "Country variance",
    );
}

#[test]
fn sleepstudy_ml_matches_lme4() {
    let fit = fit(&sleepstudy(false), Criterion::Ml);
    check_objective(&fit, 1751.9393444632);
    close(fit.loglik, -875.969672231599, 1e-9, "loglik");
    let theta = [0.929225387595172, 0.0181656841314699, 0.222645424073262];
    for (got, want) in fit.theta.iter().zip(theta) {
        close(*got, want, 1e-5, "theta");
    }
    close(fit.sigma, 25.5918158320228, 1e-6, "sigma");
    close(fit.fixed[0].estimate, 251.405104848484, 1e-7, "beta0");
    close(fit.fixed[1].estimate, 10.4672859595955, 1e-7, "beta1");
    close(fit.fixed[0].std_error, 6.63227642115722, 1e-5, "se0");
    close(fit.fixed[1].std_error, 1.50223679257189, 1e-5, "se1");
    let vc = &fit.variance_components[0];
    close(
        vc.variances[0],
        565.515271042699,
        1e-5,
        "intercept variance",
    );
    close(vc.variances[1], 32.6821976138241, 1e-5, "slope variance");
    close(
        vc.correlation(0, 1),
        0.0813199745870965,
        1e-4,
        "correlation",
    );
    close(
        vc.correlation(1, 0),
        0.0813199745870965,
        1e-4,
        "correlation",
    );
    assert_eq!(fit.dof, 6);
}

#[test]
fn sleepstudy_reml_matches_lme4() {
    let fit = fit(&sleepstudy(false), Criterion::Reml);
    check_objective(&fit, 1743.62827195849);
    let theta = [0.966732791471446, 0.0151690598803683, 0.230909598085307];
    for (got, want) in fit.theta.iter().zip(theta) {
        close(*got, want, 1e-5, "theta");
    }
    close(fit.sigma, 25.5918158926241, 1e-6, "sigma");
    close(fit.fixed[0].estimate, 251.405104848486, 1e-7, "beta0");
    close(fit.fixed[1].estimate, 10.467285959596, 1e-7, "beta1");
    close(fit.fixed[0].std_error, 6.82455577627583, 1e-5, "se0");
    close(fit.fixed[1].std_error, 1.54578893242985, 1e-5, "se1");
    let vc = &fit.variance_components[0];
    close(
        vc.variances[0],
        612.089748274669,
        1e-5,
        "intercept variance",
    );
    close(vc.variances[1], 35.0716623442135, 1e-5, "slope variance");
    close(
        vc.correlation(0, 1),
        0.0655513428534642,
        1e-4,
        "correlation",
    );
}

/// The objective at lme4's optimum equals lme4's objective to rounding: checks the
/// profiled deviance itself, independently of the optimiser.
#[test]
fn objective_at_lme4_theta_matches_lme4() {
    let mut model = LinearMixedModel::new(&gasoline()).unwrap();
    let d = model.objective(&[7.49361955722811], Criterion::Ml);
    assert!((d - -115.045957587785).abs() < 1e-8, "{d}");
    let r = model.objective(&[7.71280476360759], Criterion::Reml);
    assert!((r - -97.7224093751425).abs() < 1e-8, "{r}");
    let mut model = LinearMixedModel::new(&sleepstudy(false)).unwrap();
    let d = model.objective(
        &[0.929225387595172, 0.0181656841314699, 0.222645424073262],
        Criterion::Ml,
    );
    assert!((d - 1751.9393444632).abs() < 1e-8, "{d}");
    let r = model.objective(
        &[0.966732791471446, 0.0151690598803683, 0.230909598085307],
        Criterion::Reml,
    );
    assert!((r - 1743.62827195849).abs() < 1e-8, "{r}");
}

/// Uncorrelated slopes `(1|Subject) + (0 + Days|Subject)`: two terms with the same group.
/// lme4 prints deviance 1752.0 (ML) for this model (`anova(fm2, fm1)` in the lme4 vignette);
/// the objective must equal the correlated model's at zero correlation, and the fit must
/// report one grouping factor.
#[test]
fn sleepstudy_uncorrelated_terms_share_a_group() {
    let fit = fit(&sleepstudy(true), Criterion::Ml);
    assert!(fit.converged);
    assert_eq!(fit.theta.len(), 2);
    assert_eq!(fit.groups.len(), 1);
    assert_eq!(fit.variance_components.len(), 2);
    assert!((fit.objective - 1752.0).abs() < 0.05, "{}", fit.objective);
    // Cross-check: the correlated model's objective at θ = [θ₁, 0, θ₂] is the same.
    let mut full = LinearMixedModel::new(&sleepstudy(false)).unwrap();
    let d = full.objective(&[fit.theta[0], 0.0, fit.theta[1]], Criterion::Ml);
    assert!((d - fit.objective).abs() < 1e-9);
}

#[test]
fn summary_and_json_have_the_documented_shape() {
    let fit = fit(&sleepstudy(false), Criterion::Ml);
    let formula = "Reaction ~ 1 + Days + (1 + Days|Subject)";
    let text = fit.summary(formula).to_string();
    assert!(text.starts_with("Linear mixed model fit by maximum likelihood\n"));
    assert!(text.contains(formula));
    assert!(text.contains("logLik"));
    assert!(text.contains("-875.9697"));
    assert!(text.contains("Variance components:"));
    assert!(text.contains("Number of obs: 180; levels of grouping factors: 18"));
    assert!(text.contains("Fixed-effects parameters:"));
    assert!(text.contains("Pr(>|z|)"));
    assert!(text.contains("+0.08"));
    assert_eq!(text, fit.summary(formula).to_string());

    let json = serde_json::to_value(fit.to_json(formula)).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // serde_json without preserve_order sorts keys in a Value; check the text order instead.
    assert!(keys.contains(&"correlations"));
    let text = fit.to_json(formula).to_string_pretty();
    let order = [
        "\"formula\"",
        "\"criterion\"",
        "\"nobs\"",
        "\"objective\"",
        "\"loglik\"",
        "\"aic\"",
        "\"bic\"",
        "\"sigma\"",
        "\"theta\"",
        "\"fixed\"",
        "\"random\"",
        "\"correlations\"",
        "\"groups\"",
        "\"converged\"",
        "\"singular\"",
        "\"evaluations\"",
    ];
    let positions: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert_eq!(json["criterion"], "ML");
    assert_eq!(json["random"].as_array().unwrap().len(), 3);
    assert_eq!(json["random"][2]["group"], "Residual");
    assert_eq!(json["correlations"][0]["term2"], "Days");
    assert_eq!(json["groups"][0]["levels"], 18);
    assert_eq!(json["fixed"][1]["name"], "Days");

    let reml = self::fit(&gasoline(), Criterion::Reml);
    let text = reml
        .summary("LCarPCap ~ 1 + Time + LIncomeP + LRPMG + (1|Country)")
        .to_string();
    assert!(text.starts_with("Linear mixed model fit by REML\n"));
    assert!(text.contains("REML criterion at convergence: -97.7224"));
    assert_eq!(
        serde_json::to_value(reml.to_json("f")).unwrap()["criterion"],
        "REML"
    );
}

#[test]
fn conditional_modes_have_level_names_and_positive_sds() {
    let fit = fit(&sleepstudy(false), Criterion::Ml);
    let re = &fit.random_effects[0];
    assert_eq!(re.levels.len(), 18);
    assert_eq!(re.levels[0], "308");
    assert_eq!(re.modes.len(), 36);
    assert!(re.conditional_sd.iter().all(|&s| s > 0.0 && s.is_finite()));
    // Modes of a random intercept sum to (about) zero when X contains an intercept.
    let sum: f64 = (0..18).map(|l| re.mode(l, 0)).sum();
    assert!(sum.abs() < 1e-6, "{sum}");
}

/// The derivative-free path (BOBYQA, what lme4 uses) reaches lme4's optimum too.
#[test]
fn bobyqa_also_matches_lme4() {
    let options = FitOptions {
        optimizer: super::OptimizerChoice::Bobyqa,
        ..FitOptions::default()
    };
    let cases = [
        (
            gasoline(),
            Criterion::Ml,
            -115.045957587785,
            vec![7.49361955722811],
        ),
        (
            gasoline(),
            Criterion::Reml,
            -97.7224093751425,
            vec![7.71280476360759],
        ),
        (
            sleepstudy(false),
            Criterion::Ml,
            1751.9393444632,
            vec![0.929225387595172, 0.0181656841314699, 0.222645424073262],
        ),
        (
            sleepstudy(false),
            Criterion::Reml,
            1743.62827195849,
            vec![0.966732791471446, 0.0151690598803683, 0.230909598085307],
        ),
    ];
    for (mm, criterion, objective, theta) in cases {
        let mut model = LinearMixedModel::new(&mm).unwrap();
        let fit = model.fit(criterion, &options).unwrap();
        assert!(fit.message.starts_with("BOBYQA"), "{}", fit.message);
        check_objective(&fit, objective);
        for (got, want) in fit.theta.iter().zip(&theta) {
            close(*got, *want, 1e-4, "theta");
        }
    }
}
