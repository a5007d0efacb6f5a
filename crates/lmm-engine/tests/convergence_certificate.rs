//! What `converged` means, through the public API: the convergence certificate catches an
//! optimiser that stopped short and restarts it; with restarts disabled such a fit is reported
//! as not converged, with the failed check; boundary optima (a variance at 0, a correlation
//! at ±1) are certified as such; an exhausted budget is never reported as converged. (A point
//! stuck on a false boundary is hard to produce through the optimisers, which are good at
//! leaving it; the restart off the boundary is tested on the engine's rescue step directly,
//! in `lmm::strategy`.)

mod support;

use lmm_engine::{fit, ConvergenceStatus, Criterion, Fit, FitOptions, OptimizerChoice, Table};

const SLEEP: &str = "Reaction ~ 1 + Days + (1 + Days | Subject)";
const SLOPES: &str = "y ~ 1 + x + (1 + x | g)";

/// The best objective of three searches (default, BOBYQA, BOBYQA to rho_end = 1e-9).
fn best_objective(formula: &str, table: &Table, criterion: Criterion) -> f64 {
    let mut tight = FitOptions::default()
        .with_criterion(criterion)
        .with_optimizer(OptimizerChoice::Bobyqa);
    tight.rho_end = 1e-9;
    [
        FitOptions::default().with_criterion(criterion),
        FitOptions::default()
            .with_criterion(criterion)
            .with_optimizer(OptimizerChoice::Bobyqa),
        tight,
    ]
    .iter()
    .map(|o| fit(formula, table, o).unwrap().objective())
    .fold(f64::INFINITY, f64::min)
}

fn assert_reaches(fit: &Fit, want: f64) {
    let gap = (fit.objective() - want) / want.abs().max(1.0);
    assert!(
        gap.abs() < 1e-6,
        "objective {} vs {want} (gap {gap:.2e}): {}",
        fit.objective(),
        fit.result().message
    );
}

/// BOBYQA stopped at a coarse trust-region radius.
fn sloppy(max_restarts: usize) -> FitOptions {
    let mut options = FitOptions::default()
        .with_optimizer(OptimizerChoice::Bobyqa)
        .with_max_restarts(max_restarts);
    options.rho_end = 0.05;
    options
}

#[test]
fn an_optimiser_that_stopped_short_is_restarted_until_the_certificate_passes() {
    let table = support::sleepstudy(1.0);
    let want = best_objective(SLEEP, &table, Criterion::Ml);
    let f = fit(SLEEP, &table, &sloppy(3)).unwrap();
    let c = f.convergence();
    assert!(f.converged(), "{}", f.result().message);
    assert_eq!(c.status, ConvergenceStatus::ConvergedAfterRestart);
    assert!(c.restarts >= 1);
    assert_reaches(&f, want);
    assert!(
        f.result().message.contains("restart"),
        "{}",
        f.result().message
    );
    // The summary says so in one line; the notes too.
    let text = f.to_string();
    let notes: Vec<&str> = text.lines().filter(|l| l.starts_with("Note: ")).collect();
    assert_eq!(notes.len(), 1, "{text}");
    assert!(notes[0].contains("convergence certificate passed after"));
    assert!(f.notes().iter().any(|n| n.contains("restart")));
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json["convergence"]["status"], "converged_after_restart");
    assert!(json["convergence"]["optimizers_tried"][0] == "bobyqa");
}

#[test]
fn without_restarts_a_fit_that_stopped_short_is_not_converged() {
    let table = support::sleepstudy(1.0);
    let f = fit(SLEEP, &table, &sloppy(0)).unwrap();
    assert!(!f.converged());
    let c = f.convergence();
    assert_eq!(c.restarts, 0);
    assert!(
        matches!(
            c.status,
            ConvergenceStatus::GradientNotSmall | ConvergenceStatus::HessianNotPositiveDefinite
        ),
        "{:?}",
        c.status
    );
    assert!(c.gradient_max > 0.0);
    assert!(
        f.result().message.contains("certificate failed"),
        "{}",
        f.result().message
    );
    assert!(f.to_string().contains("\nWarning: not converged: "));
    assert!(f.notes().iter().any(|n| n.contains("did not converge")));
    let json = serde_json::to_value(&f).unwrap();
    assert_eq!(json["converged"], false);
    assert_ne!(json["convergence"]["status"], "converged");
}

#[test]
fn an_unremarkable_fit_prints_no_convergence_note() {
    let f = fit(SLEEP, &support::sleepstudy(1.0), &FitOptions::default()).unwrap();
    assert_eq!(f.convergence().status, ConvergenceStatus::Converged);
    assert_eq!(f.convergence().restarts, 0);
    let text = f.to_string();
    assert!(
        !text.contains("Note:") && !text.contains("Warning:"),
        "{text}"
    );
    // θ̂ is interior: every parameter is free and the Hessian there positive definite.
    assert!(f.convergence().hessian_min_eigenvalue.unwrap() > 0.0);
    assert!(f.notes().is_empty(), "{:?}", f.notes());
}

#[test]
fn an_exhausted_budget_is_never_converged() {
    let table = support::sleepstudy(1.0);
    for optimizer in [OptimizerChoice::Auto, OptimizerChoice::Bobyqa] {
        let options = FitOptions::default()
            .with_optimizer(optimizer)
            .with_max_evaluations(9);
        let f = fit(SLEEP, &table, &options).unwrap();
        assert!(!f.converged(), "{optimizer:?}: {}", f.result().message);
        assert_eq!(f.convergence().status, ConvergenceStatus::EvaluationLimit);
        assert!(f.result().evaluations <= 10, "{}", f.result().evaluations);
    }
}

#[test]
fn variance_components_at_zero_are_certified_on_the_boundary() {
    // No random slope in the data: with uncorrelated terms its variance goes to exactly 0.
    let table = support::degenerate_slopes(0, 5);
    let formula = "y ~ 1 + x + (1 | g) + (0 + x | g)";
    for criterion in [Criterion::Ml, Criterion::Reml] {
        let want = best_objective(formula, &table, criterion);
        for optimizer in [OptimizerChoice::Auto, OptimizerChoice::Bobyqa] {
            let options = FitOptions::default()
                .with_criterion(criterion)
                .with_optimizer(optimizer);
            let f = fit(formula, &table, &options).unwrap();
            let what = format!("{criterion} {optimizer:?}");
            assert!(f.converged(), "{what}: {}", f.result().message);
            assert!(
                f.singular() && f.theta()[1] == 0.0,
                "{what}: θ {:?}",
                f.theta()
            );
            assert!(f.theta()[0] > 0.1, "{what}: θ {:?}", f.theta());
            assert_reaches(&f, want);
        }
    }
}

#[test]
fn boundary_optima_are_certified_on_the_boundary() {
    // 0: no random slope; 1: slope = 2 × intercept (correlation +1); 2: no random intercept.
    // Each makes the 2×2 covariance singular: the optimum lies on the face λ22 = 0 (rank
    // one), or, in canonical form, has a zero first column.
    for kind in 0..3 {
        let table = support::degenerate_slopes(kind, 17 + kind as u64);
        for criterion in [Criterion::Ml, Criterion::Reml] {
            let want = best_objective(SLOPES, &table, criterion);
            for optimizer in [OptimizerChoice::Auto, OptimizerChoice::Bobyqa] {
                let options = FitOptions::default()
                    .with_criterion(criterion)
                    .with_optimizer(optimizer);
                let f = fit(SLOPES, &table, &options).unwrap();
                let what = format!("kind {kind} {criterion} {optimizer:?}");
                assert!(f.converged(), "{what}: {}", f.result().message);
                assert!(f.singular(), "{what}: θ {:?}", f.theta());
                assert_reaches(&f, want);
                let theta = f.theta();
                let rank_one = theta[2] == 0.0 || theta[..2] == [0.0, 0.0];
                assert!(rank_one, "{what}: θ {theta:?}");
                assert!(f.convergence().hessian_min_eigenvalue.unwrap() > 0.0);
                if kind == 1 {
                    let vc = &f.variance_components()[0];
                    assert!((vc.correlation(0, 1) - 1.0).abs() < 1e-6, "{what}");
                }
            }
        }
    }
}
