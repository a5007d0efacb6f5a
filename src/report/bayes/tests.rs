//! Tests of the Gibbs sampler: the joint coefficient draw against a dense computation, the
//! cross-product residual sum of squares, agreement with ML on the gasoline panel, convergence,
//! coverage on the post's simulation design, determinism and validation.

use std::path::Path;
use std::sync::OnceLock;

use super::*;
use crate::report::results::load_references;
use crate::report::simulation::RandomInterceptDesign;

fn panel() -> &'static GasolinePanel {
    static PANEL: OnceLock<GasolinePanel> = OnceLock::new();
    PANEL.get_or_init(|| GasolinePanel::load(Path::new("data/gasoline.csv")).expect("panel"))
}

fn gasoline_posterior() -> &'static Posterior {
    static POSTERIOR: OnceLock<Posterior> = OnceLock::new();
    POSTERIOR.get_or_init(|| run(panel(), &GibbsConfig::default()).expect("sampler runs"))
}

/// A small unbalanced model with a deterministic design, for the exact checks.
fn small_model() -> RandomInterceptModel {
    let group = vec![0, 0, 0, 1, 1, 2, 2, 2, 2, 3];
    let x: Vec<Vec<f64>> = (0..group.len())
        .map(|i| {
            let t = i as f64;
            vec![1.0, (0.7 * t).sin(), 0.1 * t * t - 1.0]
        })
        .collect();
    let y = (0..group.len())
        .map(|i| 0.5 + (1.3 * i as f64).cos() + 0.4 * group[i] as f64)
        .collect();
    RandomInterceptModel {
        fixed_names: vec!["a".into(), "b".into(), "c".into()],
        x,
        group,
        groups: 4,
        y,
    }
}

/// Inverse of a small dense symmetric positive definite matrix by Gauss–Jordan elimination.
fn dense_inverse(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let k = a.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut r = row.clone();
            r.extend((0..k).map(|j| f64::from(u8::from(i == j))));
            r
        })
        .collect();
    for col in 0..k {
        let pivot = m[col][col];
        for v in m[col].iter_mut() {
            *v /= pivot;
        }
        for row in 0..k {
            if row != col {
                let f = m[row][col];
                let pivot_row = m[col].clone();
                for (v, p) in m[row].iter_mut().zip(&pivot_row) {
                    *v -= f * p;
                }
            }
        }
    }
    m.into_iter().map(|r| r[k..].to_vec()).collect()
}

#[test]
fn joint_draw_has_the_dense_conditional_mean_and_covariance() {
    let model = small_model();
    let cp = CrossProducts::new(&model);
    let (p, m) = (cp.p, cp.m);
    let (sigma2, sigma_b2, kappa) = (0.3, 1.7, 0.01);

    // The draw is affine in the normals: θ = μ + M z. Recover μ and M column by column.
    let mut coef = Coefficients::new(p, m);
    let theta = |coef: &mut Coefficients, z: &[f64]| -> Vec<f64> {
        assert!(coef.draw(&cp, sigma2, sigma_b2, kappa, z));
        coef.beta.iter().chain(&coef.b).copied().collect()
    };
    let zero = vec![0.0; p + m];
    let mu = theta(&mut coef, &zero);
    let columns: Vec<Vec<f64>> = (0..p + m)
        .map(|i| {
            let mut z = zero.clone();
            z[i] = 1.0;
            theta(&mut coef, &z)
                .iter()
                .zip(&mu)
                .map(|(a, b)| a - b)
                .collect()
        })
        .collect();

    // Dense Q = D'D/σ² + diag(κ for β, 1/σ_b² for b) and D'y/σ².
    let rows: Vec<Vec<f64>> = model
        .x
        .iter()
        .zip(&model.group)
        .map(|(x, &g)| {
            let mut r = x.clone();
            r.extend((0..m).map(|j| f64::from(u8::from(j == g))));
            r
        })
        .collect();
    let k = p + m;
    let mut q = vec![vec![0.0; k]; k];
    let mut rhs = vec![0.0; k];
    for (r, &y) in rows.iter().zip(&model.y) {
        for i in 0..k {
            rhs[i] += r[i] * y / sigma2;
            for j in 0..k {
                q[i][j] += r[i] * r[j] / sigma2;
            }
        }
    }
    for (i, row) in q.iter_mut().enumerate() {
        row[i] += if i < p { kappa } else { 1.0 / sigma_b2 };
    }
    let cov = dense_inverse(&q);
    for i in 0..k {
        let mean: f64 = (0..k).map(|j| cov[i][j] * rhs[j]).sum();
        assert!(
            (mu[i] - mean).abs() < 1e-10,
            "mean {i}: {} vs {mean}",
            mu[i]
        );
        for j in 0..k {
            let mmt: f64 = columns.iter().map(|c| c[i] * c[j]).sum();
            assert!(
                (mmt - cov[i][j]).abs() < 1e-10 * cov[i][i].max(cov[j][j]),
                "cov {i},{j}: {mmt} vs {}",
                cov[i][j]
            );
        }
    }
}

#[test]
fn residual_sum_of_squares_from_cross_products_matches_the_direct_sum() {
    let model = small_model();
    let cp = CrossProducts::new(&model);
    let beta = [0.3, -1.2, 0.05];
    let b = [0.4, -0.1, 0.0, 2.0];
    let ub: Vec<f64> = (0..cp.m).map(|j| dot(cp.ztx_row(j), &beta)).collect();
    let direct: f64 = model
        .x
        .iter()
        .zip(&model.group)
        .zip(&model.y)
        .map(|((x, &g), &y)| {
            let e = y - dot(x, &beta) - b[g];
            e * e
        })
        .sum();
    let from_cp = cp.rss(&beta, &b, &ub);
    assert!(
        (from_cp - direct).abs() < 1e-12 * direct,
        "{from_cp} vs {direct}"
    );
}

#[test]
fn cholesky_factors_a_known_matrix_and_rejects_an_indefinite_one() {
    let mut a = vec![4.0, 2.0, 2.0, 5.0];
    assert!(cholesky_in_place(&mut a, 2));
    assert_eq!((a[0], a[2], a[3]), (2.0, 1.0, 2.0));
    let mut b = vec![1.0, 2.0, 2.0, 1.0];
    assert!(!cholesky_in_place(&mut b, 2));
}

#[test]
fn gasoline_posterior_medians_agree_with_ml_and_chains_converge() {
    let post = gasoline_posterior();
    let refs = load_references(Path::new("data/reference")).expect("references");
    let ml = &refs.lme4_ml;
    assert_eq!(post.parameters.len(), 6);
    for (k, name) in GASOLINE_FIXED_EFFECTS.iter().enumerate() {
        let s = post.parameter(name).expect("summary");
        let z = (s.median - ml.beta[k]) / ml.std_errors[k];
        assert!(
            z.abs() < 0.25,
            "{name}: median {} vs ML {} (SE {}): {z:.3} SE",
            s.median,
            ml.beta[k],
            ml.std_errors[k]
        );
        // The posterior sd of a coefficient is close to its ML standard error.
        let ratio = s.sd / ml.std_errors[k];
        assert!((0.9..1.2).contains(&ratio), "{name}: sd / SE = {ratio}");
        assert!(s.lower < ml.beta[k] && ml.beta[k] < s.upper);
    }
    // The variances: the intervals contain the ML and REML estimates; σ² is pinned down by 342
    // rows, σ_b² by 18 countries, so its posterior median sits above the ML value (the posterior
    // averages over β and b, as REML does, and is right-skewed).
    let s2 = post.parameter(SIGMA2).unwrap();
    assert!(
        (s2.median / ml.sigma2 - 1.0).abs() < 0.05,
        "σ² median {}",
        s2.median
    );
    let sb2 = post.parameter(SIGMA_B2).unwrap();
    assert!(sb2.median > ml.sigma_b2 && sb2.median < 1.5 * ml.sigma_b2);
    for (s, ml_value, reml_value) in [
        (s2, ml.sigma2, refs.lme4_reml.sigma2),
        (sb2, ml.sigma_b2, refs.lme4_reml.sigma_b2),
    ] {
        assert!(s.lower < ml_value && reml_value < s.upper, "{}", s.name);
    }
    for s in &post.parameters {
        assert!(s.rhat < 1.01, "{}: R̂ {}", s.name, s.rhat);
        assert!(s.ess > 2000.0, "{}: ESS {}", s.name, s.ess);
        assert!(s.lower < s.median && s.median < s.upper);
    }
    assert_eq!(post.draws, 8000);
    assert_eq!(post.variance_draws.sigma2.len(), 8000);
    assert_eq!(post.variance_draws.sigma_b2.len(), 8000);
}

#[test]
fn intervals_cover_the_truth_on_the_simulation_design() {
    let design = RandomInterceptDesign::ARTICLE;
    let config = GibbsConfig {
        chains: 2,
        iterations: 1_200,
        warmup: 200,
        ..GibbsConfig::default()
    };
    let mut covered = 0;
    let mut total = 0;
    for seed in 1..=5 {
        let data = design.simulate(seed);
        let p = data.beta.len();
        let model = RandomInterceptModel {
            fixed_names: (0..p).map(|k| format!("x{k}")).collect(),
            x: data.x.clone(),
            group: data.group.clone(),
            groups: design.groups,
            y: data.y.clone(),
        };
        let post = sample(&model, &config).expect("sampler runs");
        let truths = data
            .beta
            .iter()
            .copied()
            .chain([design.sigma2, design.sigma_b2]);
        for (s, truth) in post.parameters.iter().zip(truths) {
            total += 1;
            if s.lower <= truth && truth <= s.upper {
                covered += 1;
            }
            assert!(s.rhat < 1.02, "seed {seed}, {}: R̂ {}", s.name, s.rhat);
        }
    }
    // 65 intervals at 95%: about 62 should cover; fewer than 57 has probability below 1%.
    assert_eq!(total, 65);
    assert!(
        covered >= 57,
        "{covered} of {total} intervals cover the truth"
    );
}

#[test]
fn runs_are_identical_and_independent_of_the_thread_count() {
    let config = GibbsConfig {
        iterations: 600,
        warmup: 100,
        ..GibbsConfig::default()
    };
    let in_pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run(panel(), &config).unwrap())
    };
    let one = in_pool(1);
    assert_eq!(one, in_pool(3));
    assert_eq!(one, run(panel(), &config).unwrap());
    let json = serde_json::to_string(&one).unwrap();
    assert_eq!(json, serde_json::to_string(&in_pool(2)).unwrap());
    // A different seed gives different draws.
    let other = run(
        panel(),
        &GibbsConfig {
            seed: config.seed + 1,
            ..config.clone()
        },
    )
    .unwrap();
    assert_ne!(one.variance_draws, other.variance_draws);
}

#[test]
fn chains_start_apart_and_use_their_own_streams() {
    let config = GibbsConfig {
        chains: 3,
        iterations: 60,
        warmup: 0,
        ..GibbsConfig::default()
    };
    let post = run(panel(), &config).unwrap();
    let first = |chain: usize| post.variance_draws.sigma_b2[chain * 60];
    // Chain 0 starts with σ_b² large, the last chain with σ_b² small.
    assert!(first(0) > 10.0 * first(2), "{} vs {}", first(0), first(2));
    // After the start is forgotten the chains still differ draw by draw.
    assert_ne!(
        post.variance_draws.sigma2[50],
        post.variance_draws.sigma2[60 + 50]
    );
}

#[test]
fn serialised_output_is_rounded_and_omits_the_draws() {
    let post = gasoline_posterior();
    let value = serde_json::to_value(post).unwrap();
    for key in [
        "method",
        "priors",
        "chains",
        "iterations",
        "warmup",
        "seed",
        "draws",
        "parameters",
    ] {
        assert!(value.get(key).is_some(), "missing {key}");
    }
    assert!(value.get("variance_draws").is_none());
    assert_eq!(value["priors"]["beta"], "β_k ~ N(0, 10²) independently");
    assert_eq!(value["priors"]["sigma_b"], "σ_b ~ half-Cauchy(0, 5)");
    let first = &value["parameters"][0];
    assert_eq!(first["name"], "(Intercept)");
    for field in ["median", "lower", "upper", "mean", "sd", "rhat", "ess"] {
        let x = first[field].as_f64().expect(field);
        let text = format!("{:e}", x);
        let mantissa_digits = text
            .split('e')
            .next()
            .unwrap()
            .chars()
            .filter(char::is_ascii_digit)
            .count();
        assert!(mantissa_digits <= 6, "{field} = {x} is not rounded");
    }
}

#[test]
fn invalid_configurations_and_data_are_rejected() {
    let model = small_model();
    let bad_configs = [
        GibbsConfig {
            chains: 0,
            ..GibbsConfig::default()
        },
        GibbsConfig {
            iterations: 100,
            warmup: 100,
            ..GibbsConfig::default()
        },
        GibbsConfig {
            sigma_scale: 0.0,
            ..GibbsConfig::default()
        },
        GibbsConfig {
            beta_prior_sd: f64::NAN,
            ..GibbsConfig::default()
        },
    ];
    for config in bad_configs {
        assert!(matches!(
            sample(&model, &config),
            Err(BayesError::InvalidConfig(_))
        ));
    }
    let config = GibbsConfig {
        iterations: 50,
        warmup: 10,
        ..GibbsConfig::default()
    };
    let mut ragged = model.clone();
    ragged.x[3].pop();
    let mut out_of_range = model.clone();
    out_of_range.group[0] = 4;
    let mut constant = model.clone();
    constant.y = vec![1.0; constant.y.len()];
    let mut infinite = model.clone();
    infinite.x[2][1] = f64::INFINITY;
    let mut short = model.clone();
    short.y.pop();
    for data in [ragged, out_of_range, constant, infinite, short] {
        assert!(matches!(
            sample(&data, &config),
            Err(BayesError::InvalidData(_))
        ));
    }
    assert!(sample(&model, &config).is_ok());
}
