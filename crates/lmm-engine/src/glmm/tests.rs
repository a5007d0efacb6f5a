//! Property tests of the GLMM objectives against a direct dense computation: at fixed θ and β
//! the Laplace deviance equals `−2 log p(y | û) + log det(Λ'Z'WZΛ + I) + ‖û‖²` with û found by
//! dense Newton iterations, and adaptive quadrature with one point equals the Laplace
//! deviance on the deviance-residual scale.

use faer::Mat;
use proptest::prelude::*;

use crate::design::{GlmResponse, ModelMatrices, RandomEffectsTerm};

use super::agq::{agq_deviance, GaussHermite};
use super::family::Family;
use super::laplace::ConditionalDensity;
use super::link::Link;
use super::model::GeneralizedLinearMixedModel;

/// A small design: n observations, an intercept and a covariate, a grouping factor `g` with
/// a random intercept (and a random slope when `slope`), and optionally a second crossed
/// factor `h`.
fn design(
    n: usize,
    groups: usize,
    slope: bool,
    crossed: bool,
    seed: u64,
) -> (ModelMatrices, Vec<f64>) {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64) / ((1u64 << 53) as f64)
    };
    let x: Vec<f64> = (0..n).map(|_| next() * 2.0 - 1.0).collect();
    let g: Vec<u32> = (0..n).map(|i| (i % groups) as u32).collect();
    let h: Vec<u32> = (0..n).map(|i| ((i / groups) % 3) as u32).collect();
    let mut terms = vec![RandomEffectsTerm {
        group: "g".into(),
        columns: if slope {
            vec!["(Intercept)".into(), "x".into()]
        } else {
            vec!["(Intercept)".into()]
        },
        levels: (0..groups).map(|l| l.to_string()).collect(),
        refs: g,
        z: if slope {
            x.iter().flat_map(|&v| [1.0, v]).collect()
        } else {
            vec![1.0; n]
        },
    }];
    if crossed {
        terms.push(RandomEffectsTerm {
            group: "h".into(),
            columns: vec!["(Intercept)".into()],
            levels: (0..3).map(|l| l.to_string()).collect(),
            refs: h,
            z: vec![1.0; n],
        });
    }
    let u: Vec<f64> = (0..n).map(|_| next()).collect();
    let mm = ModelMatrices {
        response: "y".into(),
        y: vec![0.0; n],
        x: Mat::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { x[i] }),
        fixed_names: vec!["(Intercept)".into(), "x".into()],
        dropped_fixed: vec![],
        terms,
        rows_dropped: 0,
        weights: None,
        notes: vec![],
    };
    (mm, u)
}

/// Dense Z Λ (n × q) for θ in lme4's layout, terms in formula order.
fn z_lambda(mm: &ModelMatrices, theta: &[f64]) -> Mat<f64> {
    let n = mm.nobs();
    let q: usize = mm.terms.iter().map(|t| t.nranef()).sum();
    let mut zl = Mat::<f64>::zeros(n, q);
    let mut offset = 0;
    let mut th = 0;
    for t in &mm.terms {
        let k = t.width();
        let mut lambda = vec![0.0; k * k];
        for c in 0..k {
            for r in c..k {
                lambda[r + c * k] = theta[th];
                th += 1;
            }
        }
        for i in 0..n {
            let l = t.refs[i] as usize;
            for c in 0..k {
                // (ZΛ)_{i, l·k + c} = Σ_r z_{ir} λ_{rc}.
                let v: f64 = (0..k).map(|r| t.z[i * k + r] * lambda[r + c * k]).sum();
                zl[(i, offset + l * k + c)] = v;
            }
        }
        offset += t.nranef();
    }
    zl
}

/// log det and solve of a small SPD matrix by a plain Cholesky.
fn chol_logdet_solve(a: &Mat<f64>, b: &[f64]) -> (f64, Vec<f64>) {
    let q = a.nrows();
    let mut l = Mat::<f64>::zeros(q, q);
    for j in 0..q {
        let mut d = a[(j, j)];
        for c in 0..j {
            d -= l[(j, c)] * l[(j, c)];
        }
        let d = d.sqrt();
        l[(j, j)] = d;
        for r in j + 1..q {
            let mut s = a[(r, j)];
            for c in 0..j {
                s -= l[(r, c)] * l[(j, c)];
            }
            l[(r, j)] = s / d;
        }
    }
    let mut y = b.to_vec();
    for r in 0..q {
        for c in 0..r {
            y[r] -= l[(r, c)] * y[c];
        }
        y[r] /= l[(r, r)];
    }
    for r in (0..q).rev() {
        for c in r + 1..q {
            y[r] -= l[(c, r)] * y[c];
        }
        y[r] /= l[(r, r)];
    }
    let logdet = 2.0 * (0..q).map(|j| l[(j, j)].ln()).sum::<f64>();
    (logdet, y)
}

/// The dense Laplace pieces at (θ, β): (−2 log p(y|û), log det, ‖û‖², Σ devresid).
fn dense_laplace(
    mm: &ModelMatrices,
    resp: &GlmResponse,
    family: Family,
    theta: &[f64],
    beta: &[f64],
) -> (f64, f64, f64, f64) {
    let n = mm.nobs();
    let zl = z_lambda(mm, theta);
    let q = zl.ncols();
    let link = family.link();
    let mut u = vec![0.0; q];
    let eta_of = |u: &[f64]| -> Vec<f64> {
        (0..n)
            .map(|i| {
                resp.offset[i]
                    + mm.x[(i, 0)] * beta[0]
                    + mm.x[(i, 1)] * beta[1]
                    + (0..q).map(|j| zl[(i, j)] * u[j]).sum::<f64>()
            })
            .collect()
    };
    let pdev = |u: &[f64]| -> f64 {
        let eta = eta_of(u);
        (0..n)
            .map(|i| family.deviance_residual(resp.y[i], link.inverse(eta[i]), resp.weights[i]))
            .sum::<f64>()
            + u.iter().map(|v| v * v).sum::<f64>()
    };
    let mut logdet = 0.0;
    for _ in 0..500 {
        let eta = eta_of(&u);
        let mut a = Mat::<f64>::zeros(q, q);
        let mut rhs = vec![0.0; q];
        for i in 0..n {
            let mu = link.inverse(eta[i]);
            let me = link.mu_eta(eta[i]);
            let w = resp.weights[i] * me * me / family.variance(mu);
            let zwork = (eta[i] - resp.offset[i] - mm.x[(i, 0)] * beta[0] - mm.x[(i, 1)] * beta[1])
                + (resp.y[i] - mu) / me;
            for r in 0..q {
                rhs[r] += zl[(i, r)] * w * zwork;
                for c in 0..q {
                    a[(r, c)] += zl[(i, r)] * w * zl[(i, c)];
                }
            }
        }
        for j in 0..q {
            a[(j, j)] += 1.0;
        }
        let (ld, unew) = chol_logdet_solve(&a, &rhs);
        let step = unew
            .iter()
            .zip(&u)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        logdet = ld;
        if step < 1e-12 {
            break;
        }
        // Fisher scoring with step halving on the penalised deviance.
        let before = pdev(&u);
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = u.iter().zip(&unew).map(|(a, b)| a + t * (b - a)).collect();
            if pdev(&trial) <= before || t < 1e-6 {
                u = trial;
                break;
            }
            t *= 0.5;
        }
    }
    let eta = eta_of(&u);
    let mu: Vec<f64> = eta.iter().map(|&e| link.inverse(e)).collect();
    let density = ConditionalDensity::new(resp, family);
    let devresid: f64 = (0..n)
        .map(|i| family.deviance_residual(resp.y[i], mu[i], resp.weights[i]))
        .sum();
    (
        density.minus_two_log_density(&mu),
        logdet,
        u.iter().map(|v| v * v).sum(),
        devresid,
    )
}

/// A response drawn from the family at a plausible mean.
fn response(family: Family, n: usize, draws: &[f64]) -> GlmResponse {
    let (y, weights): (Vec<f64>, Vec<f64>) = match family {
        Family::Binomial(_) => (0..n)
            .map(|i| {
                let trials = 1.0 + (i % 4) as f64;
                (
                    (draws[i] * (trials + 1.0)).floor().min(trials) / trials,
                    trials,
                )
            })
            .unzip(),
        _ => (0..n).map(|i| ((draws[i] * 6.0).floor(), 1.0)).unzip(),
    };
    GlmResponse {
        y,
        trials: weights.clone(),
        weights,
        offset: (0..n).map(|i| 0.1 * (i % 3) as f64).collect(),
        notes: vec![],
    }
}

fn family_of(index: usize) -> Family {
    [
        Family::Binomial(Link::Logit),
        Family::Binomial(Link::Probit),
        Family::Binomial(Link::Cloglog),
        Family::Poisson(Link::Log),
    ][index]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn laplace_equals_the_dense_computation(
        family in 0usize..4,
        seed in 0u64..1_000_000,
        t0 in 0.05f64..1.5,
        t1 in -0.5f64..0.5,
        t2 in 0.05f64..1.0,
        b0 in -1.0f64..1.0,
        b1 in -1.0f64..1.0,
        shape in 0usize..3,
    ) {
        let family = family_of(family);
        let (slope, crossed) = [(false, false), (true, false), (false, true)][shape];
        let (mm, draws) = design(36, 6, slope, crossed, seed);
        let resp = response(family, mm.nobs(), &draws);
        let theta: Vec<f64> = match (slope, crossed) {
            (true, _) => vec![t0, t1, t2],
            (_, true) => vec![t0, t2],
            _ => vec![t0],
        };
        let beta = [b0, b1];
        let mut model = GeneralizedLinearMixedModel::new(&mm, &resp, family).unwrap();
        let got = model.deviance(&theta, &beta, 1).unwrap();
        let (aic, logdet, usq, devresid) = dense_laplace(&mm, &resp, family, &theta, &beta);
        let want = aic + logdet + usq;
        prop_assert!((got - want).abs() < 1e-8 * want.abs().max(1.0), "{family:?}: {got} vs {want}");
        if !slope && !crossed {
            let agq1 = agq_deviance(&mut model.pirls, &GaussHermite::new(1));
            let want1 = devresid + logdet + usq;
            prop_assert!((agq1 - want1).abs() < 1e-8 * want1.abs().max(1.0), "{agq1} vs {want1}");
            // With many points the quadrature converges: 24 and 25 points agree closely.
            let a24 = model.deviance(&theta, &beta, 24).unwrap();
            let a25 = model.deviance(&theta, &beta, 25).unwrap();
            prop_assert!((a24 - a25).abs() < 1e-6 * a25.abs().max(1.0), "{a24} vs {a25}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The exact β and θ gradients of the Laplace deviance (canonical links) equal central
    /// differences of the deviance, for scalar, vector-valued and crossed terms.
    #[test]
    fn laplace_gradient_equals_central_differences(
        poisson in proptest::bool::ANY,
        seed in 0u64..1_000_000,
        t0 in 0.1f64..1.5,
        t1 in -0.5f64..0.5,
        t2 in 0.1f64..1.0,
        b0 in -1.0f64..1.0,
        b1 in -1.0f64..1.0,
        shape in 0usize..4,
    ) {
        let family = if poisson { Family::Poisson(Link::Log) } else { Family::Binomial(Link::Logit) };
        let (slope, crossed) = [(false, false), (true, false), (false, true), (true, true)][shape];
        let (mm, draws) = design(48, 6, slope, crossed, seed);
        let resp = response(family, mm.nobs(), &draws);
        let theta: Vec<f64> = match (slope, crossed) {
            (true, true) => vec![t0, t1, t2, 0.7 * t0],
            (true, false) => vec![t0, t1, t2],
            (false, true) => vec![t0, t2],
            _ => vec![t0],
        };
        let beta = [b0, b1];
        let mut model = GeneralizedLinearMixedModel::new(&mm, &resp, family).unwrap();
        model.pirls.run(&theta, Some(&beta)).unwrap();
        let grad = model.pirls.laplace_gradient().unwrap();
        // Richardson-extrapolated central differences (error O(h⁴)); steps well above the
        // PIRLS tolerance, whose effect on log|L|² is first order in the modes' error.
        let mut central = |j: usize, h: f64, in_theta: bool| {
            let (mut tu, mut td, mut bu, mut bd) = (theta.clone(), theta.clone(), beta, beta);
            if in_theta {
                tu[j] += h;
                td[j] -= h;
            } else {
                bu[j] += h;
                bd[j] -= h;
            }
            (model.deviance(&tu, &bu, 1).unwrap() - model.deviance(&td, &bd, 1).unwrap())
                / (2.0 * h)
        };
        let h = 2e-3;
        for (j, exact) in grad.beta.iter().enumerate() {
            let fd = (4.0 * central(j, h / 2.0, false) - central(j, h, false)) / 3.0;
            prop_assert!(
                (exact - fd).abs() <= 1e-7 * fd.abs().max(1.0),
                "{family:?} shape {shape}, β{j}: exact {exact} vs differences {fd}"
            );
        }
        for (j, exact) in grad.theta.iter().enumerate() {
            let fd = (4.0 * central(j, h / 2.0, true) - central(j, h, true)) / 3.0;
            prop_assert!(
                (exact - fd).abs() <= 1e-6 * fd.abs().max(1.0),
                "{family:?} shape {shape}, θ{j}: exact {exact} vs differences {fd}"
            );
        }
    }
}

/// Non-canonical links have no exact profile (their mode equations' Hessian is not `2C`).
#[test]
fn non_canonical_links_are_not_profiled() {
    let (mm, draws) = design(24, 4, false, false, 7);
    let family = Family::Binomial(Link::Probit);
    let resp = response(family, mm.nobs(), &draws);
    let mut model = GeneralizedLinearMixedModel::new(&mm, &resp, family).unwrap();
    assert!(!model.can_profile_beta(1));
    model.pirls.run(&[0.5], Some(&[0.1, 0.2])).unwrap();
    assert!(model.pirls.laplace_gradient().is_none());
}

/// The modes' first-order prediction is second-order accurate: halving the move divides its
/// error by about four, and it is far closer than the old modes.
#[test]
fn mode_prediction_is_second_order() {
    let family = Family::Binomial(Link::Logit);
    let (mm, draws) = design(60, 6, true, true, 11);
    let resp = response(family, mm.nobs(), &draws);
    let (theta, beta) = (vec![0.8, 0.2, 0.5, 0.6], vec![0.3, -0.4]);
    let (dtheta, dbeta) = ([0.1, -0.05, 0.08, 0.1], [0.05, 0.1]);
    let mut errors = Vec::new();
    for eps in [0.2, 0.1] {
        let t1: Vec<f64> = theta
            .iter()
            .zip(&dtheta)
            .map(|(t, d)| t + eps * d)
            .collect();
        let b1: Vec<f64> = beta.iter().zip(&dbeta).map(|(b, d)| b + eps * d).collect();
        let mut at = GeneralizedLinearMixedModel::new(&mm, &resp, family).unwrap();
        at.pirls.run(&theta, Some(&beta)).unwrap();
        let old: Vec<f64> = at.pirls.u.iter().flatten().copied().collect();
        at.pirls.predict_modes(&t1, &b1);
        let predicted: Vec<f64> = at.pirls.u.iter().flatten().copied().collect();
        let mut exact = GeneralizedLinearMixedModel::new(&mm, &resp, family).unwrap();
        exact.pirls.run(&t1, Some(&b1)).unwrap();
        let want: Vec<f64> = exact.pirls.u.iter().flatten().copied().collect();
        let dist = |a: &[f64]| {
            a.iter()
                .zip(&want)
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let (e_pred, e_old) = (dist(&predicted), dist(&old));
        assert!(e_pred < 0.1 * e_old, "ε {eps}: {e_pred} vs {e_old}");
        errors.push(e_pred);
    }
    let ratio = errors[0] / errors[1];
    assert!(
        (3.0..5.5).contains(&ratio),
        "error ratio {ratio} ({errors:?})"
    );
}

/// Each row twice, with different responses: the copies share every covariate, so PIRLS
/// iterates over one row per pair, and the objectives (Laplace and adaptive quadrature)
/// equal those of the rows as given — computed by giving the second copy an offset of −0.0,
/// which changes no arithmetic but makes the rows distinct.
#[test]
fn aggregated_rows_give_the_objectives_of_the_rows_as_given() {
    for family in [
        Family::Binomial(Link::Logit),
        Family::Binomial(Link::Probit),
        Family::Poisson(Link::Log),
        Family::NegativeBinomial(Link::Log, super::family::Shape::new(2.0)),
    ] {
        let (mm, draws) = design(30, 5, false, false, 5);
        let n = mm.nobs();
        let base = response(family, n, &draws);
        let shifted: Vec<f64> = (0..n).map(|i| draws[(i + 7) % n]).collect();
        let other = response(family, n, &shifted);
        let mut twice = mm.clone();
        twice.x = Mat::from_fn(2 * n, 2, |i, j| mm.x[(i % n, j)]);
        twice.y = (0..2 * n).map(|i| mm.y[i % n]).collect();
        let term = &mut twice.terms[0];
        term.refs = (0..2 * n).map(|i| mm.terms[0].refs[i % n]).collect();
        term.z = (0..2 * n).map(|i| mm.terms[0].z[i % n]).collect();
        let join = |a: &[f64], b: &[f64]| a.iter().chain(b).copied().collect::<Vec<f64>>();
        let together = GlmResponse {
            y: join(&base.y, &other.y),
            weights: join(&base.weights, &other.weights),
            trials: join(&base.trials, &other.trials),
            offset: vec![0.0; 2 * n],
            notes: vec![],
        };
        let mut apart = together.clone();
        apart.offset[n..].fill(-0.0);
        let mut aggregated = GeneralizedLinearMixedModel::new(&twice, &together, family).unwrap();
        let mut as_given = GeneralizedLinearMixedModel::new(&twice, &apart, family).unwrap();
        assert_eq!(aggregated.pirls_rows(), n, "{family:?}");
        assert_eq!(as_given.pirls_rows(), 2 * n, "{family:?}");
        for nagq in [1, 5] {
            let (theta, beta) = ([0.7], [0.2, -0.3]);
            let a = aggregated.deviance(&theta, &beta, nagq).unwrap();
            let b = as_given.deviance(&theta, &beta, nagq).unwrap();
            assert!(
                (a - b).abs() <= 1e-10 * b.abs(),
                "{family:?} nAGQ {nagq}: {a} vs {b}"
            );
        }
    }
}
