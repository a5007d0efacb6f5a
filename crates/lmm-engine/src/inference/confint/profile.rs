//! Likelihood-profile intervals, as lme4's `confint(m, method = "profile")`: for each
//! parameter φ_i, the signed root deviance `ζ(v) = sign(v − φ̂_i)·√(d_i(v) − d̂)`, where
//! `d_i(v)` is the ML deviance minimised over every other parameter with φ_i = v, and the
//! interval is where `|ζ| ≤ z_{(1+level)/2}`. As lme4 1.1 does, REML fits are profiled on
//! the ML deviance (lme4's `profile` refits by ML first).
//!
//! * Variance parameters (sds, correlations, σ — lme4's `devfun2` scale): the deviance not
//!   profiled over σ, `log|L_θ|² + r²(θ)/σ² + n·log(2πσ²)` with θ = chol(Σ_b)/σ, minimised over
//!   the others by BOBYQA (bounds: sds ≥ 0, correlations in [−1, 1]) on a scale relative to
//!   the estimates, warm-started from the previous point of the same profile.
//! * Fixed effect β_j: for given θ, min over β_{−j} of the penalised RSS with β_j = b is
//!   `r²(θ) + (b − β̂_j(θ))²/[(R_X'R_X)⁻¹]_jj`, so the profile needs only the factor at θ
//!   (σ profiled out analytically), minimised over θ̃ by BOBYQA.
//!
//! Each bound is found by a secant search on ζ that first brackets the target and then
//! refines it by the Illinois method to 10⁻⁹ of the parameter's scale — exact roots where lme4
//! interpolates its profile by splines. A bound that the profile cannot reach before the
//! boundary of the parameter space (a standard deviation at 0, a correlation at ±1) is
//! `None` (lme4's NA). Everything reuses the model's factor: no pass over the rows.

use bobyqa::{Bobyqa, Config};

use super::names::{sdcor, theta_from_sdcor, variance_parameters, Kind};
use super::ConfintRow;
use crate::inference::{normal_quantile, FittedModel, InferenceError};
use crate::lmm::{Criterion, LinearMixedModel, ThetaLayout};
use crate::options::FitOptions;

/// Relative accuracy of each bound.
const BOUND_TOLERANCE: f64 = 1e-9;

/// Minimises `f` over `x` in `[lower, upper]` with BOBYQA from `x` (in place); the minimum.
fn minimise(
    f: impl FnMut(&[f64]) -> f64,
    x: &mut [f64],
    lower: &[f64],
    upper: &[f64],
    rho_begin: f64,
) -> f64 {
    let n = x.len();
    let mut config = Config::new(n);
    config.npt = if n == 1 { 3 } else { 2 * n + 1 };
    let width = lower
        .iter()
        .zip(upper)
        .map(|(l, u)| u - l)
        .fold(f64::INFINITY, f64::min);
    config.rho_begin = rho_begin.min(0.45 * width);
    config.rho_end = 1e-9_f64.min(config.rho_begin);
    config.max_fun = 4000;
    for ((v, l), u) in x.iter_mut().zip(lower).zip(upper) {
        *v = v.clamp(*l, *u);
    }
    match Bobyqa::new(n, config) {
        Ok(mut solver) => {
            let out = solver.minimize(f, x, lower, upper);
            if out.found_finite() {
                out.f
            } else {
                f64::NAN
            }
        }
        Err(_) => f64::NAN,
    }
}

/// What every profile needs: the model, the ML optimum and the deviance's constants.
struct Profiler<'a> {
    model: &'a mut LinearMixedModel,
    layout: ThetaLayout,
    n: f64,
    sum_log_weights: f64,
    dev_min: f64,
}

impl Profiler<'_> {
    /// The ML deviance (not profiled over σ) at sds/correlations/σ `phi`.
    fn deviance_sdcor(&mut self, phi: &[f64]) -> f64 {
        let Some((theta, sigma)) = theta_from_sdcor(&self.layout, phi) else {
            return f64::INFINITY;
        };
        match self.model.pieces_at(&theta) {
            Ok(pd) => {
                let s2 = sigma * sigma;
                pd.logdet_random + pd.pwrss / s2 + self.n * (2.0 * std::f64::consts::PI * s2).ln()
                    - self.sum_log_weights
            }
            Err(_) => f64::INFINITY,
        }
    }

    /// The ML deviance (σ and β_{−j} profiled out) at internal θ̃ with β_j = b.
    fn deviance_fixed(&mut self, internal: &[f64], j: usize, b: f64) -> f64 {
        let scales = self.model.internal_scale();
        let theta: Vec<f64> = internal.iter().zip(scales).map(|(t, s)| t / s).collect();
        let (pd, fixed) = match (self.model.pieces_at(&theta), self.model.fixed_at(&theta)) {
            (Ok(pd), Ok(f)) => (pd, f),
            _ => return f64::INFINITY,
        };
        let p = fixed.beta.len();
        let vjj = fixed.unscaled_covariance[j * p + j];
        let pwrss = pd.pwrss + (b - fixed.beta[j]).powi(2) / vjj;
        pd.logdet_random + self.n * (1.0 + (2.0 * std::f64::consts::PI * pwrss / self.n).ln())
            - self.sum_log_weights
    }

    fn zeta(&self, v: f64, hat: f64, dev: f64) -> f64 {
        if !dev.is_finite() {
            return f64::NAN;
        }
        (v - hat).signum() * (dev - self.dev_min).max(0.0).sqrt()
    }
}

/// The v with ζ(v) = `target`, searched from `hat` (ζ = 0) in the direction of `target`'s
/// sign, starting with a step `step`, never past `limit`; `None` when ζ does not reach the
/// target before `limit` (or cannot be evaluated).
fn find_bound(
    mut zeta: impl FnMut(f64) -> f64,
    hat: f64,
    target: f64,
    step: f64,
    limit: f64,
) -> Option<f64> {
    let dir = target.signum();
    let tol = BOUND_TOLERANCE * (hat.abs() + step.abs());
    let beyond = |z: f64| dir * (z - target) >= 0.0;
    let clip = |v: f64| if dir * (v - limit) > 0.0 { limit } else { v };
    let (mut a, mut za) = (hat, 0.0);
    let mut b = clip(hat + dir * step);
    let mut zb = zeta(b);
    let mut expansions = 0;
    while !beyond(zb) {
        if !zb.is_finite() || b == limit || expansions > 60 {
            return None;
        }
        // Secant extrapolation toward the target, at least 1.5 times the last step.
        let slope = (zb - za) / (b - a);
        let last = b - a;
        let mut next = if slope.is_finite() && dir * slope > 0.0 {
            b + (target - zb) / slope
        } else {
            b + 2.0 * last
        };
        if dir * (next - b) < 1.5 * dir * last {
            next = b + 1.5 * last;
        }
        a = b;
        za = zb;
        b = clip(next);
        zb = zeta(b);
        expansions += 1;
    }
    // Illinois regula falsi on g = ζ − target over [a, b].
    let (mut ga, mut gb) = (za - target, zb - target);
    let mut side = 0;
    for _ in 0..100 {
        if (b - a).abs() <= tol || gb == 0.0 {
            break;
        }
        let c = b - gb * (b - a) / (gb - ga);
        let gc = zeta(c) - target;
        if !gc.is_finite() {
            return None;
        }
        if gc.signum() == gb.signum() {
            b = c;
            gb = gc;
            if side == -1 {
                ga /= 2.0;
            }
            side = -1;
        } else {
            a = b;
            ga = gb;
            b = c;
            gb = gc;
            if side == 1 {
                gb /= 2.0;
            }
            side = 1;
        }
        if gc.abs() < 1e-10 {
            break;
        }
    }
    Some(b)
}

/// The profile intervals of every parameter at confidence `level`.
pub fn profile(fm: &mut FittedModel, level: f64) -> Result<Vec<ConfintRow>, InferenceError> {
    if !(level > 0.0 && level < 1.0) {
        return Err(InferenceError::Input(format!(
            "the confidence level must be in (0, 1), not {level}"
        )));
    }
    let z = normal_quantile((1.0 + level) / 2.0);
    let ml = if fm.fit.criterion() == Criterion::Ml {
        fm.fit.result().clone()
    } else {
        let options = FitOptions {
            criterion: Criterion::Ml,
            initial_theta: Some(fm.fit.theta().to_vec()),
            ..fm.options.clone()
        };
        fm.model.fit(&options)?
    };
    let kinds = variance_parameters(&ml.variance_components);
    let layout = fm.model.theta_layout().clone();
    let mut phi_hat = sdcor(&layout, &ml.theta, ml.sigma);
    for v in &mut phi_hat {
        if v.is_nan() {
            *v = 0.0;
        }
    }
    let sum_log_weights = fm.matrices.sum_log_weights();
    let n = fm.matrices.nobs() as f64;
    let mut profiler = Profiler {
        model: &mut fm.model,
        layout,
        n,
        sum_log_weights,
        dev_min: ml.objective,
    };
    // The optimum of the sdcor deviance itself (ML's θ̂ maps onto it up to rounding).
    profiler.dev_min = profiler.dev_min.min(profiler.deviance_sdcor(&phi_hat));

    let mut rows = Vec::with_capacity(kinds.len() + ml.fixed.len());
    let scale: Vec<f64> = phi_hat
        .iter()
        .zip(&kinds)
        .map(|(v, (_, kind))| match kind {
            Kind::Correlation => 1.0,
            _ => v.abs().max(1e-3 * ml.sigma),
        })
        .collect();
    for (i, (name, kind)) in kinds.iter().enumerate() {
        let free: Vec<usize> = (0..phi_hat.len()).filter(|&c| c != i).collect();
        let lower: Vec<f64> = free
            .iter()
            .map(|&c| match kinds[c].1 {
                Kind::Correlation => -1.0,
                Kind::StdDev => 0.0,
                Kind::Sigma => 1e-6,
            })
            .collect();
        let upper: Vec<f64> = free
            .iter()
            .map(|&c| match kinds[c].1 {
                Kind::Correlation => 1.0,
                _ => f64::INFINITY,
            })
            .collect();
        let mut bounds = [None, None];
        for (slot, sign) in [(0usize, -1.0f64), (1, 1.0)] {
            let mut warm = phi_hat.clone();
            let hat = phi_hat[i];
            let (step, limit) = match kind {
                Kind::Correlation => (0.2, sign),
                Kind::StdDev => (0.3 * scale[i], if sign < 0.0 { 0.0 } else { f64::INFINITY }),
                Kind::Sigma => (
                    0.1 * scale[i],
                    if sign < 0.0 {
                        1e-6 * scale[i]
                    } else {
                        f64::INFINITY
                    },
                ),
            };
            let mut zeta = |v: f64| {
                let mut x: Vec<f64> = free.iter().map(|&c| warm[c] / scale[c]).collect();
                let lo: Vec<f64> = free
                    .iter()
                    .zip(&lower)
                    .map(|(&c, l)| l / scale[c])
                    .collect();
                let hi: Vec<f64> = free
                    .iter()
                    .zip(&upper)
                    .map(|(&c, u)| u / scale[c])
                    .collect();
                let mut phi = warm.clone();
                phi[i] = v;
                let dev = minimise(
                    |x| {
                        for (&c, xv) in free.iter().zip(x) {
                            phi[c] = xv * scale[c];
                        }
                        profiler.deviance_sdcor(&phi)
                    },
                    &mut x,
                    &lo,
                    &hi,
                    0.05,
                );
                if dev.is_finite() {
                    for (&c, xv) in free.iter().zip(&x) {
                        warm[c] = xv * scale[c];
                    }
                    warm[i] = v;
                }
                profiler.zeta(v, hat, dev)
            };
            bounds[slot] = find_bound(&mut zeta, hat, sign * z, step, limit);
        }
        rows.push(ConfintRow {
            parameter: name.clone(),
            lower: bounds[0],
            upper: bounds[1],
        });
    }

    let theta_hat: Vec<f64> = ml
        .theta
        .iter()
        .zip(profiler.model.internal_scale())
        .map(|(t, s)| t * s)
        .collect();
    let lower = profiler.layout.lower_bounds();
    let upper = vec![f64::INFINITY; lower.len()];
    let p = ml.fixed.len();
    for j in 0..p {
        let fe = &ml.fixed[j];
        let mut bounds = [None, None];
        for (slot, sign) in [(0usize, -1.0f64), (1, 1.0)] {
            let mut warm = theta_hat.clone();
            let hat = fe.estimate;
            let mut zeta = |b: f64| {
                let mut x = warm.clone();
                let dev = minimise(
                    |t| profiler.deviance_fixed(t, j, b),
                    &mut x,
                    &lower,
                    &upper,
                    0.05,
                );
                if dev.is_finite() {
                    warm = x;
                }
                profiler.zeta(b, hat, dev)
            };
            bounds[slot] = find_bound(
                &mut zeta,
                hat,
                sign * z,
                z * fe.std_error,
                sign * f64::INFINITY,
            );
        }
        rows.push(ConfintRow {
            parameter: fe.name.clone(),
            lower: bounds[0],
            upper: bounds[1],
        });
    }
    Ok(rows)
}
