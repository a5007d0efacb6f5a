//! [`LowRankFixed`]: the profiled objective and its exact gradient for single-term models
//! with many fixed effects (a fixed factor with thousands of levels, issue 13), through
//! q×q algebra only, q = the number of random effects.
//!
//! With `A = [X y]'[X y]`, `B = [X y]'ZΛ` and `C = Λ'Z'ZΛ + I`, the `[X y]` block of the
//! blocked factor is the Schur complement `S = A − B C⁻¹ B'`. Its factor costs O(p³) per
//! evaluation; but only `Λ` changes with θ, so by the matrix determinant lemma
//!
//! ```text
//! log|S|    = log|A|    + log|I + Λ'NΛ|   − log|C|,   N   = Z'Z − Z'[X y] A⁻¹ [X y]'Z
//! log|S_XX| = log|A_XX| + log|I + Λ'N_XΛ| − log|C|,   N_X = Z'Z − Z'X A_XX⁻¹ X'Z
//! ```
//!
//! and `N`, `N_X` do not depend on θ: they are formed once per model from one dense Cholesky
//! factor of `A` (whose leading block is that of `A_XX`). Then, with `f_M = log|I + Λ'MΛ|`,
//!
//! ```text
//! log r²     = log r²_A + f_N − f_{N_X}          (r²_A: the last pivot² of A's factor)
//! log|L|²    = f_{Z'Z}
//! log|R_X|²  = log|A_XX| + f_{N_X} − f_{Z'Z}
//! ```
//!
//! and `∂f_M/∂Λ = 2 MΛ(I + Λ'MΛ)⁻¹`, summed over the levels' diagonal blocks for each λ
//! element. Each evaluation costs O(q³), independent of p. β̂ and its covariance are not
//! needed during the optimisation; the model refactors densely once at θ̂ for them.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};

use crate::linalg::cholesky_checked;
use crate::lmm::crossprod::CrossProducts;
use crate::lmm::deviance::Criterion;
use crate::lmm::model::LinearMixedModel;

/// Fewest fixed-effects columns for which the low-rank path is used.
pub const MIN_FIXED: usize = 512;

/// The θ-independent pieces of the low-rank objective of a single-term model.
#[derive(Debug, Clone)]
pub struct LowRankFixed {
    k: usize,
    q: usize,
    nobs: usize,
    p: usize,
    sum_log_weights: f64,
    /// `log r²_A`: the residual sum of squares of the fixed-effects-only regression.
    log_rss: f64,
    /// `log|A_XX|`.
    logdet_xx: f64,
    /// `Z'Z`, `N` and `N_X` (q×q, symmetric), in that order.
    grams: [Mat<f64>; 3],
}

/// `log|I + Λ'MΛ|` and, when `grad` is given, its derivative with respect to each element of
/// the k×k λ (column-major, full) added into `grad` times `weight`.
fn logdet_term(
    m: &Mat<f64>,
    lambda: &Mat<f64>,
    k: usize,
    weight: f64,
    grad: Option<&mut [f64]>,
) -> f64 {
    let q = m.nrows();
    let t = m * lambda;
    let mut c = lambda.transpose() * &t;
    for i in 0..q {
        c[(i, i)] += 1.0;
    }
    // I + Λ'MΛ ⪰ I for PSD M: always positive definite.
    let llt = match c.llt(Side::Lower) {
        Ok(l) => l,
        Err(_) => return f64::NAN,
    };
    let l = llt.L();
    let logdet = 2.0 * (0..q).map(|i| l[(i, i)].ln()).sum::<f64>();
    if let Some(grad) = grad {
        // X = K⁻¹ T' = (T K⁻¹)'; ∂f/∂λ_ab = 2 Σ_l (T K⁻¹)_{(l,a),(l,b)} = 2 Σ_l X_{(l,b),(l,a)}.
        let x = llt.solve(t.transpose());
        for level in 0..q / k {
            let base = level * k;
            for b in 0..k {
                for a in 0..k {
                    grad[a + b * k] += weight * 2.0 * x[(base + b, base + a)];
                }
            }
        }
    }
    logdet
}

impl LowRankFixed {
    /// The low-rank pieces of `cp` when the path pays (one term, p ≥ [`MIN_FIXED`], q ≤ p/4)
    /// and `[X y]'[X y]` is positive definite; `None` otherwise (the dense path is used).
    /// `fixed_factor`: the lower Cholesky factor of `[X y]'[X y]` when the caller has it
    /// (the model's rank check computes it), to save refactoring it.
    pub fn new(cp: &CrossProducts, fixed_factor: Option<Vec<f64>>) -> Option<Self> {
        if cp.terms.len() != 1 || cp.p < MIN_FIXED {
            return None;
        }
        let term = &cp.terms[0];
        let (k, q, p) = (term.width, term.nranef(), cp.p);
        if 4 * q > p {
            return None;
        }
        let p1 = p + 1;
        let l = match fixed_factor {
            Some(l) => l,
            None => {
                let mut l = cp.fixed.clone();
                cholesky_checked(&mut l, p1, 1e-12).ok()?;
                l
            }
        };
        let la = faer::MatRef::from_column_major_slice(&l, p1, p1);
        let log_rss = 2.0 * la[(p, p)].ln();
        let logdet_xx = 2.0 * (0..p).map(|i| la[(i, i)].ln()).sum::<f64>();
        // W = L_A⁻¹ [X y]'Z; its first p rows are L_XX⁻¹ X'Z (L_A is lower triangular).
        let mut w = Mat::from_fn(p1, q, |i, j| cp.fixed_random[0][i + j * p1]);
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            la,
            w.as_mut(),
            faer::Par::rayon(0),
        );
        let h = w.transpose() * &w;
        let mut zz = Mat::<f64>::zeros(q, q);
        for level in 0..term.nlevels {
            let block = &cp.diagonal[0][level * k * k..(level + 1) * k * k];
            for b in 0..k {
                for a in 0..k {
                    zz[(level * k + a, level * k + b)] = block[a + b * k];
                }
            }
        }
        let n_full = Mat::from_fn(q, q, |i, j| zz[(i, j)] - h[(i, j)]);
        // H_X = W_X'W_X = H − w_y w_y', w_y the last row of W.
        let n_xx = Mat::from_fn(q, q, |i, j| n_full[(i, j)] + w[(p, i)] * w[(p, j)]);
        Some(Self {
            k,
            q,
            nobs: cp.nobs,
            p,
            sum_log_weights: cp.sum_log_weights,
            log_rss,
            logdet_xx,
            grams: [zz, n_full, n_xx],
        })
    }

    /// The objective at `theta` (the user's θ, the term's packed lower triangle); with
    /// `grad`, its gradient with respect to `theta` too.
    pub fn evaluate(&self, theta: &[f64], criterion: Criterion, grad: Option<&mut [f64]>) -> f64 {
        let k = self.k;
        if theta.iter().any(|v| !v.is_finite()) {
            return f64::INFINITY;
        }
        let mut lambda_k = vec![0.0; k * k];
        crate::lmm::theta::fill_lower_triangle(k, theta, &mut lambda_k);
        let lambda = Mat::from_fn(self.q, self.q, |i, j| {
            if i / k == j / k {
                lambda_k[i % k + (j % k) * k]
            } else {
                0.0
            }
        });
        let dof = match criterion {
            Criterion::Ml => self.nobs as f64,
            Criterion::Reml => (self.nobs - self.p) as f64,
        };
        // Weights of f_{Z'Z}, f_N, f_{N_X} in the objective.
        let weights = match criterion {
            Criterion::Ml => [1.0, dof, -dof],
            Criterion::Reml => [0.0, dof, 1.0 - dof],
        };
        let mut full = grad.as_ref().map(|_| vec![0.0; k * k]);
        let mut f = [0.0; 3];
        for (i, m) in self.grams.iter().enumerate() {
            if weights[i] == 0.0 {
                continue;
            }
            f[i] = logdet_term(m, &lambda, k, weights[i], full.as_deref_mut());
        }
        let log_r2 = self.log_rss + f[1] - f[2];
        let base = dof * (1.0 + (2.0 * std::f64::consts::PI).ln() + log_r2 - dof.ln())
            - self.sum_log_weights;
        let objective = match criterion {
            Criterion::Ml => f[0] + base,
            Criterion::Reml => self.logdet_xx + f[2] + base,
        };
        if let (Some(grad), Some(full)) = (grad, full) {
            let mut idx = 0;
            for b in 0..k {
                for a in b..k {
                    grad[idx] = full[a + b * k];
                    idx += 1;
                }
            }
        }
        if objective.is_nan() {
            f64::INFINITY
        } else {
            objective
        }
    }
}

impl LinearMixedModel {
    /// The objective and its gradient at internal θ̃ through the low-rank path; `None` when
    /// the model does not use it.
    pub(super) fn low_rank_value_and_gradient(
        &mut self,
        internal: &[f64],
        criterion: Criterion,
        grad: &mut [f64],
    ) -> Option<f64> {
        let low_rank = self.low_rank.as_ref()?;
        let user = self.scaling.to_user(internal);
        let f = low_rank.evaluate(&user, criterion, Some(grad));
        self.scaling.gradient_to_internal(grad);
        Some(f)
    }

    /// The objective at internal θ̃ through the low-rank path; `None` when the model does
    /// not use it.
    pub(super) fn low_rank_objective(&self, internal: &[f64], criterion: Criterion) -> Option<f64> {
        let low_rank = self.low_rank.as_ref()?;
        Some(low_rank.evaluate(&self.scaling.to_user(internal), criterion, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::ModelMatrices;
    use crate::formula::Formula;
    use crate::lmm::gradient::SingleTermGradient;
    use crate::options::FitOptions;
    use crate::table::{Column, Table};

    /// `data/r/many_levels.csv` (600 levels of f, 40 of g; the lme4 reference data).
    fn six_hundred() -> Table {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/r/many_levels.csv");
        let text = std::fs::read_to_string(path).unwrap();
        let (mut y, mut x, mut f, mut g) = (vec![], vec![], vec![], vec![]);
        for line in text.lines().skip(1) {
            let cells: Vec<&str> = line.split(',').map(|c| c.trim_matches('"')).collect();
            y.push(Some(cells[0].parse().unwrap()));
            x.push(Some(cells[1].parse().unwrap()));
            f.push(Some(cells[2].to_string()));
            g.push(Some(cells[3].to_string()));
        }
        Table::new()
            .with("y", Column::Numeric(y))
            .with("x", Column::Numeric(x))
            .with("f", Column::Text(f))
            .with("g", Column::Text(g))
    }

    /// The generator of `tests/many_levels.rs`: `levels` levels of f, 3 rows each, 50 of g.
    fn synthetic(levels: usize) -> Table {
        let n = 3 * levels;
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut uniform = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        };
        let group_effect: Vec<f64> = (0..50).map(|_| uniform() - 0.5).collect();
        let (mut y, mut f, mut g) = (vec![], vec![], vec![]);
        for i in 0..n {
            let (level, group) = (i / 3, (i * 7) % 50);
            y.push(Some(
                (level % 7) as f64 + group_effect[group] + uniform() + uniform() - 1.0,
            ));
            f.push(Some(format!("L{level:05}")));
            g.push(Some(format!("G{group:02}")));
        }
        Table::new()
            .with("y", Column::Numeric(y))
            .with("f", Column::Text(f))
            .with("g", Column::Text(g))
    }

    fn matrices(formula: &str, table: &Table) -> ModelMatrices {
        let formula = Formula::parse(formula).unwrap();
        ModelMatrices::build_with_options(&formula, table, &FitOptions::default()).unwrap()
    }

    fn rel(got: f64, want: f64) -> f64 {
        (got - want).abs() / want.abs().max(1.0)
    }

    /// Objective and gradient through both paths at a few θ, including the boundary.
    fn pointwise(mm: &ModelMatrices, thetas: &[Vec<f64>]) {
        let mut model = LinearMixedModel::new(mm).unwrap();
        let low_rank = model.low_rank.take().expect("the low-rank path applies");
        let k = model.factor.terms()[0].width;
        let mut workspace = SingleTermGradient::new(k, model.nfixed());
        for criterion in [Criterion::Ml, Criterion::Reml] {
            for theta in thetas {
                let mut got_grad = vec![0.0; theta.len()];
                let got = low_rank.evaluate(theta, criterion, Some(&mut got_grad));
                let want = model.try_objective(theta, criterion).unwrap();
                assert!(
                    rel(got, want) < 1e-10,
                    "{criterion} {theta:?}: {got} vs {want}"
                );
                let mut want_grad = vec![0.0; theta.len()];
                workspace.compute(&model.factor, criterion, &mut want_grad);
                let scale = want_grad.iter().fold(1.0_f64, |m, g| m.max(g.abs()));
                for (a, b) in got_grad.iter().zip(&want_grad) {
                    assert!(
                        (a - b).abs() < 1e-7 * scale,
                        "{criterion} {theta:?}: {got_grad:?} vs {want_grad:?}"
                    );
                }
            }
        }
    }

    /// Whole fits through both paths agree to 1e-8 (objective) and 1e-6 (θ, β, SE).
    fn both_paths(mm: &ModelMatrices) {
        for criterion in [Criterion::Ml, Criterion::Reml] {
            let options = FitOptions::default().with_criterion(criterion);
            let mut model = LinearMixedModel::new(mm).unwrap();
            assert!(model.low_rank.is_some());
            let fast = model.fit(&options).unwrap();
            model.low_rank = None;
            let dense = model.fit(&options).unwrap();
            assert!(fast.converged && dense.converged);
            assert!(
                rel(fast.objective, dense.objective) < 1e-8,
                "{criterion}: {} vs {}",
                fast.objective,
                dense.objective
            );
            for (a, b) in fast.theta.iter().zip(&dense.theta) {
                assert!(rel(*a, *b) < 1e-6, "{criterion} θ: {a} vs {b}");
            }
            assert!(rel(fast.sigma, dense.sigma) < 1e-6);
            for (a, b) in fast.fixed.iter().zip(&dense.fixed) {
                assert!(
                    rel(a.estimate, b.estimate) < 1e-6,
                    "{}: {} vs {}",
                    a.name,
                    a.estimate,
                    b.estimate
                );
                assert!(rel(a.std_error, b.std_error) < 1e-6, "{}", a.name);
            }
        }
    }

    #[test]
    fn objective_and_gradient_match_the_dense_factor() {
        let table = six_hundred();
        let points = [vec![1.0], vec![0.3], vec![0.0], vec![2.5]];
        pointwise(&matrices("y ~ x + f + (1 | g)", &table), &points);
        // Width 2: λ has an off-diagonal element.
        let points = [
            vec![1.0, 0.0, 1.0],
            vec![0.7, -0.2, 0.4],
            vec![0.5, 0.3, 0.0],
        ];
        pointwise(&matrices("y ~ x + f + (1 + x | g)", &table), &points);
        pointwise(
            &matrices("y ~ f + (1 | g)", &synthetic(2000)),
            &[vec![0.4], vec![1.2]],
        );
        // Prior weights: the √w-scaled cross-products and the Σ log w term.
        let n = table.nrows();
        let weighted = table.with(
            "w",
            Column::Numeric((0..n).map(|i| Some(0.5 + (i % 5) as f64 * 0.3)).collect()),
        );
        let options = FitOptions {
            weights: Some("w".into()),
            ..FitOptions::default()
        };
        let formula = Formula::parse("y ~ x + f + (1 | g)").unwrap();
        let mm = ModelMatrices::build_with_options(&formula, &weighted, &options).unwrap();
        assert!(mm.weights.is_some());
        pointwise(&mm, &[vec![0.8], vec![0.0]]);
    }

    #[test]
    fn fits_match_the_dense_path() {
        both_paths(&matrices("y ~ x + f + (1 | g)", &six_hundred()));
        both_paths(&matrices("y ~ f + (1 | g)", &synthetic(2000)));
    }

    #[test]
    fn the_path_is_used_only_when_it_pays() {
        let table = six_hundred();
        // Too few fixed effects.
        let model = LinearMixedModel::new(&matrices("y ~ x + (1 | g)", &table)).unwrap();
        assert!(model.low_rank.is_none());
        // Two terms.
        let model = LinearMixedModel::new(&matrices("y ~ x + f + (1 | g) + (1 | f)", &table));
        assert!(model.map_or(true, |m| m.low_rank.is_none()));
    }
}
