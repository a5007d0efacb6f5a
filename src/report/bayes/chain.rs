//! One chain of the Gibbs sampler: the cross-products it needs, the joint (β, b) draw through
//! the arrow-shaped precision, the variance steps, and the chain loop.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};

use super::*;

/// The sufficient statistics of the model, computed once: X'X, the per-group sums of the rows
/// of X (the rows of Z'X), the group sizes (the diagonal of Z'Z), X'y, Z'y and y'y.
#[derive(Debug, Clone)]
pub(super) struct CrossProducts {
    pub(super) n: usize,
    pub(super) p: usize,
    pub(super) m: usize,
    /// X'X, row-major p × p.
    pub(super) xtx: Vec<f64>,
    /// Z'X, row-major m × p: row j is the sum of group j's rows of X.
    pub(super) ztx: Vec<f64>,
    /// Group sizes n_j.
    pub(super) counts: Vec<f64>,
    pub(super) xty: Vec<f64>,
    pub(super) zty: Vec<f64>,
    pub(super) yty: f64,
}

impl CrossProducts {
    pub(super) fn new(model: &RandomInterceptModel) -> Self {
        let (n, p, m) = (model.y.len(), model.fixed_names.len(), model.groups);
        let mut cp = CrossProducts {
            n,
            p,
            m,
            xtx: vec![0.0; p * p],
            ztx: vec![0.0; m * p],
            counts: vec![0.0; m],
            xty: vec![0.0; p],
            zty: vec![0.0; m],
            yty: 0.0,
        };
        for ((row, &g), &y) in model.x.iter().zip(&model.group).zip(&model.y) {
            for (r, &xr) in row.iter().enumerate() {
                for (c, &xc) in row.iter().enumerate() {
                    cp.xtx[r * p + c] += xr * xc;
                }
                cp.ztx[g * p + r] += xr;
                cp.xty[r] += xr * y;
            }
            cp.counts[g] += 1.0;
            cp.zty[g] += y;
            cp.yty += y * y;
        }
        cp
    }

    /// Row j of Z'X.
    pub(super) fn ztx_row(&self, j: usize) -> &[f64] {
        &self.ztx[j * self.p..(j + 1) * self.p]
    }

    /// ‖y − Xβ − Zb‖² from the cross-products, given ub[j] = (Z'X)_j · β.
    pub(super) fn rss(&self, beta: &[f64], b: &[f64], ub: &[f64]) -> f64 {
        let p = self.p;
        let mut quad = 0.0;
        for r in 0..p {
            let row = &self.xtx[r * p..(r + 1) * p];
            quad += beta[r] * dot(row, beta);
        }
        let mut group_terms = 0.0;
        for j in 0..self.m {
            group_terms += b[j] * (2.0 * ub[j] + self.counts[j] * b[j] - 2.0 * self.zty[j]);
        }
        let rss = self.yty - 2.0 * dot(beta, &self.xty) + quad + group_terms;
        // Cancellation can only make an exact zero slightly negative.
        rss.max(0.0)
    }
}

pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scratch space and the current (β, b) of one chain.
#[derive(Debug, Clone)]
pub(super) struct Coefficients {
    pub(super) beta: Vec<f64>,
    pub(super) b: Vec<f64>,
    /// (Z'X)_j · β.
    pub(super) ub: Vec<f64>,
    /// The Schur complement S and then its Cholesky factor (lower triangle), row-major p × p.
    pub(super) s: Vec<f64>,
    pub(super) rhs: Vec<f64>,
    pub(super) d: Vec<f64>,
}

impl Coefficients {
    pub(super) fn new(p: usize, m: usize) -> Self {
        Coefficients {
            beta: vec![0.0; p],
            b: vec![0.0; m],
            ub: vec![0.0; m],
            s: vec![0.0; p * p],
            rhs: vec![0.0; p],
            d: vec![0.0; m],
        }
    }

    /// Forms the Schur complement S = X'X/σ² + κI − Σ_j (Z'X)_j'(Z'X)_j/(σ⁴ d_j) and the
    /// right-hand side r = X'y/σ² − Σ_j (Z'X)_j' z_j'y/(σ⁴ d_j), d_j = n_j/σ² + 1/σ_b²,
    /// κ = 1/prior variance of β. Leaves S in `s`, r in `rhs`, d in `d`.
    pub(super) fn form_schur(
        &mut self,
        cp: &CrossProducts,
        sigma2: f64,
        sigma_b2: f64,
        kappa: f64,
    ) {
        let p = cp.p;
        let tau = 1.0 / sigma2;
        let lambda = 1.0 / sigma_b2;
        for (s, &xtx) in self.s.iter_mut().zip(&cp.xtx) {
            *s = tau * xtx;
        }
        for r in 0..p {
            self.s[r * p + r] += kappa;
            self.rhs[r] = tau * cp.xty[r];
        }
        for j in 0..cp.m {
            let d = tau * cp.counts[j] + lambda;
            self.d[j] = d;
            let w = tau * tau / d;
            let u = cp.ztx_row(j);
            for (r, &ur) in u.iter().enumerate() {
                let wr = w * ur;
                for (s, &uc) in self.s[r * p..(r + 1) * p].iter_mut().zip(u) {
                    *s -= wr * uc;
                }
                self.rhs[r] -= wr * cp.zty[j];
            }
        }
    }

    /// One draw of (β, b) from their joint Gaussian full conditional. `z` holds p + m
    /// standard normals (β's first). Returns false when S is not positive definite.
    pub(super) fn draw(
        &mut self,
        cp: &CrossProducts,
        sigma2: f64,
        sigma_b2: f64,
        kappa: f64,
        z: &[f64],
    ) -> bool {
        let p = cp.p;
        self.form_schur(cp, sigma2, sigma_b2, kappa);
        if !cholesky_in_place(&mut self.s, p) {
            return false;
        }
        // β = L⁻ᵀ(L⁻¹ r + z): mean S⁻¹r, covariance L⁻ᵀL⁻¹ = S⁻¹.
        let l = &self.s;
        let w = &mut self.rhs;
        for r in 0..p {
            let partial: f64 = (0..r).map(|c| l[r * p + c] * w[c]).sum();
            w[r] = (w[r] - partial) / l[r * p + r];
        }
        for r in 0..p {
            w[r] += z[r];
        }
        for r in (0..p).rev() {
            let partial: f64 = (r + 1..p).map(|c| l[c * p + r] * self.beta[c]).sum();
            self.beta[r] = (w[r] - partial) / l[r * p + r];
        }
        // b_j | β ~ N((z_j'y − (Z'X)_j β)/(σ² d_j), 1/d_j), independently.
        let tau = 1.0 / sigma2;
        for j in 0..cp.m {
            let ub = dot(cp.ztx_row(j), &self.beta);
            self.ub[j] = ub;
            let d = self.d[j];
            self.b[j] = tau * (cp.zty[j] - ub) / d + z[p + j] / d.sqrt();
        }
        true
    }
}

/// Cholesky factorisation of the symmetric positive definite row-major `k × k` matrix `a` in
/// place: its lower triangle becomes L with LLᵀ = a (the strict upper triangle is left as it
/// was). False when a pivot is not positive.
pub(super) fn cholesky_in_place(a: &mut [f64], k: usize) -> bool {
    for j in 0..k {
        let mut pivot = a[j * k + j];
        for c in 0..j {
            pivot -= a[j * k + c] * a[j * k + c];
        }
        if !(pivot > 0.0 && pivot.is_finite()) {
            return false;
        }
        let ljj = pivot.sqrt();
        a[j * k + j] = ljj;
        for r in j + 1..k {
            let mut v = a[r * k + j];
            for c in 0..j {
                v -= a[r * k + c] * a[j * k + c];
            }
            a[r * k + j] = v / ljj;
        }
    }
    true
}

/// One chain's kept draws of β (p columns), σ² and σ_b².
#[derive(Debug, Clone)]
pub(super) struct ChainDraws {
    pub(super) kept: usize,
    /// Column-major: parameter `i`'s draws are `values[i * kept..(i + 1) * kept]`.
    pub(super) values: Vec<f64>,
}

impl ChainDraws {
    pub(super) fn column(&self, index: usize) -> &[f64] {
        &self.values[index * self.kept..(index + 1) * self.kept]
    }
}

/// Draws from InvGamma(shape, rate) given a Gamma(shape, 1) generator.
pub(super) fn inv_gamma(unit: &Gamma<f64>, rate: f64, rng: &mut ChaCha8Rng) -> f64 {
    rate / unit.sample(rng)
}

/// Runs chain `k` of `config` and returns its kept draws.
pub(super) fn run_chain(
    cp: &CrossProducts,
    config: &GibbsConfig,
    k: usize,
    vy: f64,
) -> Result<ChainDraws, BayesError> {
    let (p, m) = (cp.p, cp.m);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    rng.set_stream(k as u64);
    // Shapes are fixed by n and m; InvGamma(α, β) = β / Gamma(α, 1). The shapes are positive
    // and finite, so construction cannot fail.
    let gamma = |shape: f64| Gamma::new(shape, 1.0).expect("positive finite shape");
    let gamma_sigma2 = gamma(cp.n as f64 / 2.0 + 0.5);
    let gamma_sigma_b2 = gamma(m as f64 / 2.0 + 0.5);
    let gamma_aux = gamma(1.0);
    let kappa = 1.0 / (config.beta_prior_sd * config.beta_prior_sd);
    let inv_ae2 = 1.0 / (config.sigma_scale * config.sigma_scale);
    let inv_ab2 = 1.0 / (config.sigma_b_scale * config.sigma_b_scale);

    let u = if config.chains > 1 {
        k as f64 / (config.chains - 1) as f64
    } else {
        0.5
    };
    let mut sigma2 = vy * 10f64.powf(-3.0 + 3.0 * u);
    let mut sigma_b2 = vy * 10f64.powf(1.0 - 3.0 * u);
    let mut a_e = inv_gamma(&gamma_aux, 1.0 / sigma2 + inv_ae2, &mut rng);
    let mut a_b = inv_gamma(&gamma_aux, 1.0 / sigma_b2 + inv_ab2, &mut rng);

    let kept = config.kept();
    let mut values = vec![0.0; (p + 2) * kept];
    let mut coef = Coefficients::new(p, m);
    let mut z = vec![0.0; p + m];
    for iteration in 0..config.iterations {
        for zi in z.iter_mut() {
            *zi = StandardNormal.sample(&mut rng);
        }
        if !coef.draw(cp, sigma2, sigma_b2, kappa, &z) {
            return Err(BayesError::NotPositiveDefinite {
                chain: k,
                iteration,
            });
        }
        let rss = cp.rss(&coef.beta, &coef.b, &coef.ub);
        sigma2 = inv_gamma(&gamma_sigma2, 0.5 * rss + 1.0 / a_e, &mut rng);
        a_e = inv_gamma(&gamma_aux, 1.0 / sigma2 + inv_ae2, &mut rng);
        let bb = dot(&coef.b, &coef.b);
        sigma_b2 = inv_gamma(&gamma_sigma_b2, 0.5 * bb + 1.0 / a_b, &mut rng);
        a_b = inv_gamma(&gamma_aux, 1.0 / sigma_b2 + inv_ab2, &mut rng);

        if iteration >= config.warmup {
            let t = iteration - config.warmup;
            for (i, &v) in coef.beta.iter().chain([&sigma2, &sigma_b2]).enumerate() {
                values[i * kept + t] = v;
            }
        }
    }
    Ok(ChainDraws { kept, values })
}
