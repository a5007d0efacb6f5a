//! Property tests: on small random designs, the blocked, profiled computation must agree with
//! a direct dense computation from the marginal covariance σ²(I + ZΛΛ'Z'), written here
//! independently with plain `Vec<Vec<f64>>` linear algebra:
//!
//! * ML: `log|V| + n(1 + log(2π r²/n))`, `r²` the GLS residual quadratic form;
//! * REML: adds `log|X'V⁻¹X|` and uses `n − p`;
//! * β̂ (GLS), conditional modes `ΛΛ'Z'V⁻¹(y − Xβ̂)` and conditional variances
//!   `σ²Λ(Λ'Z'ZΛ + I)⁻¹Λ'`.
//!
//! Designs: crossed factors, nested factors, correlated random slopes, uncorrelated slopes
//! (two terms with one group), categorical fixed effects, and three crossed terms of mixed
//! widths; θ arbitrary, including exact zeros on the diagonal.

use faer::Mat;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::design::{ModelMatrices, RandomEffectsTerm};
use crate::lmm::crossprod::CrossProducts;
use crate::lmm::deviance::{Criterion, ProfiledDeviance};
use crate::lmm::estimates;
use crate::lmm::factor::BlockedCholesky;
use crate::lmm::theta::ThetaLayout;
use crate::lmm::LinearMixedModel;
use crate::options::FitOptions;

type Dense = Vec<Vec<f64>>;

fn cholesky(a: &Dense) -> Dense {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for j in 0..n {
        let d = a[j][j] - (0..j).map(|c| l[j][c] * l[j][c]).sum::<f64>();
        assert!(d > 0.0, "dense reference lost positive definiteness");
        l[j][j] = d.sqrt();
        for i in j + 1..n {
            l[i][j] = (a[i][j] - (0..j).map(|c| l[i][c] * l[j][c]).sum::<f64>()) / l[j][j];
        }
    }
    l
}

fn forward(l: &Dense, b: &[f64]) -> Vec<f64> {
    let mut x = b.to_vec();
    for i in 0..l.len() {
        x[i] = (x[i] - (0..i).map(|c| l[i][c] * x[c]).sum::<f64>()) / l[i][i];
    }
    x
}

fn backward(l: &Dense, b: &[f64]) -> Vec<f64> {
    let n = l.len();
    let mut x = b.to_vec();
    for i in (0..n).rev() {
        x[i] = (x[i] - (i + 1..n).map(|r| l[r][i] * x[r]).sum::<f64>()) / l[i][i];
    }
    x
}

fn matmul(a: &Dense, b: &Dense) -> Dense {
    let (n, k, m) = (a.len(), b.len(), b[0].len());
    (0..n)
        .map(|i| {
            (0..m)
                .map(|j| (0..k).map(|h| a[i][h] * b[h][j]).sum())
                .collect()
        })
        .collect()
}

fn transpose(a: &Dense) -> Dense {
    (0..a[0].len())
        .map(|j| (0..a.len()).map(|i| a[i][j]).collect())
        .collect()
}

/// Everything the dense reference computes.
struct DenseFit {
    objective: f64,
    beta: Vec<f64>,
    /// Conditional modes, formula order, concatenated.
    modes: Vec<f64>,
    /// Conditional variances (diagonal), formula order, concatenated.
    cond_var: Vec<f64>,
}

fn dense_fit(mm: &ModelMatrices, theta: &[f64], criterion: Criterion) -> DenseFit {
    let n = mm.y.len();
    let p = mm.x.ncols();
    let layout = ThetaLayout::for_terms(&mm.terms);
    // Z and Λ, formula order.
    let q: usize = mm.terms.iter().map(RandomEffectsTerm::nranef).sum();
    let mut z = vec![vec![0.0; q]; n];
    let mut lambda = vec![vec![0.0; q]; q];
    let mut off = 0;
    for (t, term) in mm.terms.iter().enumerate() {
        let k = term.width();
        for i in 0..n {
            for j in 0..k {
                z[i][off + term.refs[i] as usize * k + j] = term.z[i * k + j];
            }
        }
        let mut lam = vec![0.0; k * k];
        layout.fill_lambda(t, theta, &mut lam);
        for l in 0..term.nlevels() {
            for r in 0..k {
                for c in 0..k {
                    lambda[off + l * k + r][off + l * k + c] = lam[r + c * k];
                }
            }
        }
        off += term.nranef();
    }
    let zl = matmul(&z, &lambda);
    let mut v = matmul(&zl, &transpose(&zl));
    for (i, row) in v.iter_mut().enumerate() {
        row[i] += 1.0;
    }
    let c = cholesky(&v);
    let logdet_v: f64 = 2.0 * (0..n).map(|i| c[i][i].ln()).sum::<f64>();
    let xt: Dense = (0..p)
        .map(|j| forward(&c, &(0..n).map(|i| mm.x[(i, j)]).collect::<Vec<_>>()))
        .collect(); // p × n, columns of C⁻¹X
    let yt = forward(&c, &mm.y);
    let a: Dense = (0..p)
        .map(|i| {
            (0..p)
                .map(|j| (0..n).map(|h| xt[i][h] * xt[j][h]).sum())
                .collect()
        })
        .collect();
    let rhs: Vec<f64> = (0..p)
        .map(|i| (0..n).map(|h| xt[i][h] * yt[h]).sum())
        .collect();
    let ra = cholesky(&a);
    let beta = backward(&ra, &forward(&ra, &rhs));
    let resid: Vec<f64> = (0..n)
        .map(|h| yt[h] - (0..p).map(|j| xt[j][h] * beta[j]).sum::<f64>())
        .collect();
    let r2: f64 = resid.iter().map(|r| r * r).sum();
    let logdet_a: f64 = 2.0 * (0..p).map(|i| ra[i][i].ln()).sum::<f64>();
    let two_pi = 2.0 * std::f64::consts::PI;
    let (objective, sigma2) = match criterion {
        Criterion::Ml => {
            let nf = n as f64;
            (logdet_v + nf * (1.0 + (two_pi * r2 / nf).ln()), r2 / nf)
        }
        Criterion::Reml => {
            let df = (n - p) as f64;
            (
                logdet_v + logdet_a + df * (1.0 + (two_pi * r2 / df).ln()),
                r2 / df,
            )
        }
    };
    // Modes: ΛΛ'Z'V⁻¹(y − Xβ).
    let e: Vec<f64> = (0..n)
        .map(|i| mm.y[i] - (0..p).map(|j| mm.x[(i, j)] * beta[j]).sum::<f64>())
        .collect();
    let vinv_e = backward(&c, &forward(&c, &e));
    let zt_w: Vec<f64> = (0..q)
        .map(|j| (0..n).map(|i| zl[i][j] * vinv_e[i]).sum())
        .collect();
    let modes: Vec<f64> = (0..q)
        .map(|r| (0..q).map(|j| lambda[r][j] * zt_w[j]).sum())
        .collect();
    // Conditional variances: σ²Λ(Λ'Z'ZΛ + I)⁻¹Λ'.
    let mut m = matmul(&transpose(&zl), &zl);
    for (i, row) in m.iter_mut().enumerate() {
        row[i] += 1.0;
    }
    let lm = cholesky(&m);
    let cond_var = (0..q)
        .map(|r| {
            // Row r of Λ, solved: ‖Lm⁻¹ Λ[r,:]'‖².
            let w = forward(&lm, &lambda[r]);
            sigma2 * w.iter().map(|v| v * v).sum::<f64>()
        })
        .collect();
    DenseFit {
        objective,
        beta,
        modes,
        cond_var,
    }
}

fn scalar_term(group: &str, nlev: usize, refs: Vec<u32>, z: Vec<f64>) -> RandomEffectsTerm {
    RandomEffectsTerm {
        group: group.into(),
        columns: vec!["(Intercept)".into()],
        levels: (0..nlev).map(|l| format!("{group}{l}")).collect(),
        refs,
        z,
    }
}

fn slope_term(group: &str, nlev: usize, refs: Vec<u32>, x: &[f64]) -> RandomEffectsTerm {
    RandomEffectsTerm {
        group: group.into(),
        columns: vec!["(Intercept)".into(), "x".into()],
        levels: (0..nlev).map(|l| format!("{group}{l}")).collect(),
        refs,
        z: x.iter().flat_map(|&v| [1.0, v]).collect(),
    }
}

/// A small random design of the given kind (see the module docs).
fn random_design(seed: u64, kind: usize) -> ModelMatrices {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = rng.random_range(24..40usize);
    let x: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
    let mut level = |nlev: usize| -> Vec<u32> {
        (0..n)
            .map(|i| {
                if i < nlev {
                    i as u32
                } else {
                    rng.random_range(0..nlev as u32)
                }
            })
            .collect()
    };
    let ones = vec![1.0; n];
    let terms = match kind {
        0 => vec![
            scalar_term("a", 5, level(5), ones.clone()),
            scalar_term("b", 4, level(4), ones.clone()),
        ],
        1 => {
            let a = level(3);
            let b = level(3);
            let ab: Vec<u32> = a.iter().zip(&b).map(|(&a, &b)| a * 3 + b).collect();
            vec![
                scalar_term("a", 3, a, ones.clone()),
                scalar_term("a:b", 9, ab, ones.clone()),
            ]
        }
        2 => vec![slope_term("g", 5, level(5), &x)],
        3 => {
            let g = level(5);
            vec![
                scalar_term("g", 5, g.clone(), ones.clone()),
                RandomEffectsTerm {
                    columns: vec!["x".into()],
                    ..scalar_term("g", 5, g, x.clone())
                },
            ]
        }
        4 => vec![
            scalar_term("g", 5, level(5), ones.clone()),
            slope_term("h", 6, level(6), &x),
        ],
        _ => vec![
            scalar_term("a", 8, level(8), ones.clone()),
            slope_term("b", 3, level(3), &x),
            scalar_term("c", 4, level(4), ones.clone()),
        ],
    };
    // Fixed effects: intercept, x, and (for some kinds) dummies of a 3-level factor.
    let cat: Vec<usize> = (0..n).map(|i| i % 3).collect();
    let with_factor = kind % 2 == 0;
    let p = if with_factor { 4 } else { 2 };
    let xm = Mat::from_fn(n, p, |i, j| match j {
        0 => 1.0,
        1 => x[i],
        2 => f64::from(cat[i] == 1),
        _ => f64::from(cat[i] == 2),
    });
    let mut names = vec!["(Intercept)".to_string(), "x".to_string()];
    if with_factor {
        names.extend(["fB".to_string(), "fC".to_string()]);
    }
    let y: Vec<f64> = (0..n)
        .map(|i| 1.0 + 0.5 * x[i] + cat[i] as f64 * 0.3 + rng.random_range(-1.0..1.0) * 2.0)
        .collect();
    ModelMatrices {
        response: "y".into(),
        y,
        x: xm,
        fixed_names: names,
        dropped_fixed: vec![],
        terms,
        rows_dropped: 0,
        weights: None,
        notes: vec![],
    }
}

fn random_theta(seed: u64, layout: &ThetaLayout) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    layout
        .diagonal_mask()
        .into_iter()
        .map(|diag| {
            if diag {
                if rng.random_bool(0.2) {
                    0.0
                } else {
                    rng.random_range(0.0..3.0)
                }
            } else {
                rng.random_range(-2.0..2.0)
            }
        })
        .collect()
}

fn assert_close(got: f64, want: f64, rel: f64, what: &str) -> Result<(), TestCaseError> {
    let err = (got - want).abs() / (1.0 + want.abs());
    prop_assert!(
        err <= rel,
        "{what}: got {got}, want {want}, error {err:.2e}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn profiled_objective_equals_dense_marginal_likelihood(
        seed in any::<u64>(),
        kind in 0usize..6,
        reml in any::<bool>(),
    ) {
        let criterion = if reml { Criterion::Reml } else { Criterion::Ml };
        let mm = random_design(seed, kind);
        let layout = ThetaLayout::for_terms(&mm.terms);
        let theta = random_theta(seed, &layout);
        let dense = dense_fit(&mm, &theta, criterion);

        let mut model = LinearMixedModel::new(&mm).unwrap();
        let objective = model.objective(&theta, criterion);
        let rel = (objective - dense.objective).abs() / dense.objective.abs().max(1.0);
        prop_assert!(rel < 1e-8, "objective {objective} vs dense {}", dense.objective);

        let mut factor = BlockedCholesky::new(CrossProducts::new(&mm).unwrap(), layout);
        factor.update(&theta).unwrap();
        let pd = ProfiledDeviance::from_factor(&factor);
        assert_close(pd.objective(criterion), dense.objective, 1e-8, "objective")?;
        let (beta, _) = estimates::fixed_effects(&factor);
        for (b, d) in beta.iter().zip(&dense.beta) {
            assert_close(*b, *d, 1e-8, "beta")?;
        }
        let u = estimates::spherical_modes(&factor, &beta);
        let modes = estimates::conditional_modes(&factor, &u);
        let cov = estimates::conditional_covariances(&factor, pd.sigma_squared(criterion));
        // Internal order → formula order, concatenated.
        let mut formula_modes = vec![Vec::new(); mm.terms.len()];
        let mut formula_var = vec![Vec::new(); mm.terms.len()];
        for (t, term) in factor.terms().iter().enumerate() {
            let k = term.width;
            formula_modes[term.formula_index] = modes[t].clone();
            formula_var[term.formula_index] = cov[t]
                .chunks_exact(k * k)
                .flat_map(|c| (0..k).map(move |j| c[j + j * k]))
                .collect();
        }
        for (b, d) in formula_modes.concat().iter().zip(&dense.modes) {
            assert_close(*b, *d, 1e-8, "mode")?;
        }
        for (v, d) in formula_var.concat().iter().zip(&dense.cond_var) {
            assert_close(*v, *d, 1e-8, "conditional variance")?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Factoring the head and scaling the Schur complement of the unscaled tail gives the
    /// same objective as the full factorisation, for every split point.
    #[test]
    fn profiled_tail_objective_equals_full_objective(
        seed in any::<u64>(),
        kind in prop::sample::select(vec![0usize, 1, 3, 4, 5]),
        reml in any::<bool>(),
    ) {
        let criterion = if reml { Criterion::Reml } else { Criterion::Ml };
        let mm = random_design(seed, kind);
        let layout = ThetaLayout::for_terms(&mm.terms);
        let theta = random_theta(seed, &layout);
        let want = dense_fit(&mm, &theta, criterion).objective;
        let mut factor = BlockedCholesky::new(CrossProducts::new(&mm).unwrap(), layout.clone());
        for tail in 1..mm.terms.len() {
            let mut profiled = crate::lmm::profiled_tail::ProfiledTail::new(&factor, &layout, tail);
            factor.update_head(&theta, tail).unwrap();
            profiled.load(&factor);
            let got = profiled.objective(&theta, criterion);
            let rel = (got - want).abs() / want.abs().max(1.0);
            prop_assert!(rel < 1e-8, "tail {tail}: {got} vs dense {want}");
        }
        // A full update afterwards is unaffected by the partial one.
        factor.update(&theta).unwrap();
        let full = ProfiledDeviance::from_factor(&factor).objective(criterion);
        prop_assert!((full - want).abs() / want.abs().max(1.0) < 1e-8);
    }
}

/// A single-term design of width `k` (1, 2 or 3 columns: intercept, x, x²).
fn single_term_design(seed: u64, k: usize) -> ModelMatrices {
    let mut mm = random_design(seed, 2);
    let n = mm.y.len();
    let x: Vec<f64> = (0..n).map(|i| mm.x[(i, 1)]).collect();
    let term = &mut mm.terms[0];
    term.columns = ["(Intercept)", "x", "x2"][..k]
        .iter()
        .map(|s| s.to_string())
        .collect();
    term.z = x
        .iter()
        .flat_map(|&v| [1.0, v, v * v - 1.0].into_iter().take(k))
        .collect();
    mm
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The exact gradient of single-term models equals central finite differences.
    #[test]
    fn single_term_gradient_matches_finite_differences(
        seed in any::<u64>(),
        k in 1usize..4,
        reml in any::<bool>(),
    ) {
        let criterion = if reml { Criterion::Reml } else { Criterion::Ml };
        let mm = single_term_design(seed, k);
        let layout = ThetaLayout::for_terms(&mm.terms);
        let theta = random_theta(seed, &layout);
        let mut factor = BlockedCholesky::new(CrossProducts::new(&mm).unwrap(), layout.clone());
        factor.update(&theta).unwrap();
        let mut grad = vec![0.0; theta.len()];
        let mut ws = crate::lmm::gradient::SingleTermGradient::new(k, mm.x.ncols());
        ws.compute(&factor, criterion, &mut grad);
        let mut model = LinearMixedModel::new(&mm).unwrap();
        for i in 0..theta.len() {
            let h = 1e-5 * (1.0 + theta[i].abs());
            let mut tp = theta.clone();
            tp[i] += h;
            let mut tm = theta.clone();
            tm[i] -= h;
            let fd = (model.objective(&tp, criterion) - model.objective(&tm, criterion)) / (2.0 * h);
            let err = (grad[i] - fd).abs() / (1.0 + fd.abs());
            prop_assert!(err < 1e-5, "θ[{i}] analytic {} vs fd {fd}", grad[i]);
        }
    }
}

/// Both optimisers reach the same optimum on single-term designs.
#[test]
fn bfgs_and_bobyqa_agree_on_single_term_designs() {
    use crate::options::OptimizerChoice;
    let seeds: u64 = std::env::var("LMM_AGREE_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    for seed in 0..seeds {
        for k in 1..4 {
            let mm = single_term_design(seed, k);
            for criterion in [Criterion::Ml, Criterion::Reml] {
                let mut model = LinearMixedModel::new(&mm).unwrap();
                let bfgs = model
                    .fit(&FitOptions::default().with_criterion(criterion))
                    .unwrap();
                let bobyqa = model
                    .fit(&FitOptions {
                        criterion,
                        optimizer: OptimizerChoice::Bobyqa,
                        rho_end: 1e-8,
                        ftol_abs: None,
                        ..FitOptions::default()
                    })
                    .unwrap();
                assert!(bfgs.converged, "{}", bfgs.message);
                assert!(
                    bfgs.objective <= bobyqa.objective + 1e-7,
                    "seed {seed} k {k} {criterion}: bfgs {} {:?} ({}) bobyqa {} {:?}",
                    bfgs.objective,
                    bfgs.theta,
                    bfgs.message,
                    bobyqa.objective,
                    bobyqa.theta
                );
            }
        }
    }
}

/// A fit on a random-slopes design reaches a point where the dense objective is no lower
/// nearby: a sanity check of fit() on top of the objective.
#[test]
fn fitted_theta_is_a_local_minimum_of_the_dense_objective() {
    let mm = random_design(7, 4);
    let mut model = LinearMixedModel::new(&mm).unwrap();
    let fit = model
        .fit(&FitOptions::default().with_criterion(Criterion::Ml))
        .unwrap();
    let f0 = dense_fit(&mm, &fit.theta, Criterion::Ml).objective;
    assert!((f0 - fit.objective).abs() < 1e-8);
    let lower = model.theta_layout().lower_bounds();
    for i in 0..fit.theta.len() {
        for step in [-1e-3, 1e-3] {
            let mut t = fit.theta.clone();
            t[i] = (t[i] + step).max(lower[i]);
            let f = dense_fit(&mm, &t, Criterion::Ml).objective;
            assert!(f >= f0 - 1e-7, "θ[{i}] {step:+}: {f} < {f0}");
        }
    }
    let beta = dense_fit(&mm, &fit.theta, Criterion::Ml).beta;
    for (b, d) in fit.beta().iter().zip(&beta) {
        assert!((b - d).abs() < 1e-8 * (1.0 + d.abs()));
    }
}

/// Pure-noise responses put the optimum on the boundary (θ = 0, a singular fit): the
/// gradient search must land there, flag it, and agree with BOBYQA.
#[test]
fn singular_fits_reach_the_boundary() {
    use crate::options::OptimizerChoice;
    let mut singular = 0;
    let seeds: u64 = std::env::var("LMM_SINGULAR_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for seed in 0..seeds {
        for k in 1..4 {
            let mut mm = single_term_design(seed, k);
            let mut rng = ChaCha8Rng::seed_from_u64(seed + 1000);
            for v in mm.y.iter_mut() {
                *v = rng.random_range(-1.0..1.0);
            }
            for criterion in [Criterion::Ml, Criterion::Reml] {
                let mut model = LinearMixedModel::new(&mm).unwrap();
                let bfgs = model
                    .fit(&FitOptions::default().with_criterion(criterion))
                    .unwrap();
                let bobyqa = model
                    .fit(&FitOptions {
                        criterion,
                        optimizer: OptimizerChoice::Bobyqa,
                        rho_end: 1e-8,
                        ..FitOptions::default()
                    })
                    .unwrap();
                assert!(bfgs.converged, "{}", bfgs.message);
                assert!(
                    bfgs.objective <= bobyqa.objective + 1e-7,
                    "seed {seed} k {k} {criterion}: bfgs {} {:?} bobyqa {} {:?}",
                    bfgs.objective,
                    bfgs.theta,
                    bobyqa.objective,
                    bobyqa.theta
                );
                let diag = model.theta_layout().diagonal_mask();
                let zero = bfgs.theta.iter().zip(&diag).any(|(&t, &d)| d && t == 0.0);
                assert_eq!(
                    bfgs.singular,
                    zero || bfgs.theta.iter().zip(&diag).any(|(&t, &d)| d && t < 1e-4)
                );
                singular += usize::from(bfgs.singular);
            }
        }
    }
    // Noise data should give plenty of boundary optima.
    assert!(singular >= 10, "{singular}");
}
