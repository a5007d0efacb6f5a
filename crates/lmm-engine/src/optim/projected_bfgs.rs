//! [`minimize_projected_bfgs`]: a projected BFGS method for a smooth objective with exact
//! gradients and lower bounds (the diagonal elements of λ ≥ 0; −∞ elsewhere), for the
//! few-parameter problems of single-term models.
//!
//! Each iteration fixes the variables that sit on their bound with the gradient pushing
//! outward, takes the BFGS direction in the others, and backtracks along the projected path
//! `P(x + αd)` until the Armijo condition holds. The inverse-Hessian approximation is reset
//! when the active set changes. Convergence: projected gradient below `gtol` (relative to
//! `max(1, |f|)`), or no further decrease with a projected gradient already small.
//!
//! The profiled objective is even in each scalar term's θ, so its derivative vanishes on the
//! boundary θ = 0 whether or not 0 is a minimum. A boundary point is therefore accepted only
//! after probing a small step into the interior; if that step is lower, the search restarts
//! from there. For vector terms a zero diagonal `λ_jj` makes the sign of the rest of column
//! `j` arbitrary (`λλ'` is unchanged by negating a column), so the probe also tries the
//! column with its off-diagonal entries negated: the descent may lie on the other side.

/// What the projected BFGS search found.
#[derive(Debug, Clone, PartialEq)]
pub struct BfgsOutcome {
    /// Best point.
    pub x: Vec<f64>,
    /// Objective at `x`.
    pub f: f64,
    /// Objective (and gradient) evaluations.
    pub evaluations: usize,
    /// True when a convergence test was met.
    pub converged: bool,
    /// Why the search stopped.
    pub message: String,
}

/// Settings of [`minimize_projected_bfgs`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BfgsSettings {
    /// Maximum evaluations.
    pub max_evaluations: usize,
    /// Projected-gradient tolerance, relative to `max(1, |f|)`.
    pub gtol: f64,
    /// Interior probe step for variables that end on their bound.
    pub boundary_probe: f64,
}

impl Default for BfgsSettings {
    fn default() -> Self {
        Self {
            max_evaluations: 10_000,
            gtol: 1e-11,
            boundary_probe: 1e-3,
        }
    }
}

/// Minimises `fg` (which returns f and writes the gradient) from `x0` subject to `x ≥ lower`.
///
/// `partners[i]` lists the variables negated together with a boundary probe of variable `i`
/// (the rest of λ's column for a diagonal element; empty otherwise).
pub fn minimize_projected_bfgs<F: FnMut(&[f64], &mut [f64]) -> f64>(
    fg: F,
    x0: &[f64],
    lower: &[f64],
    partners: &[Vec<usize>],
    settings: &BfgsSettings,
) -> BfgsOutcome {
    minimize_projected_bfgs_from(fg, x0, lower, partners, settings, &[])
}

/// [`minimize_projected_bfgs`] with the inverse-Hessian approximation first updated by
/// `secants`, steps `(s, y)` (the change of x and of the gradient) taken before the search —
/// by another method, such as EM steps — in the order they were taken: curvature already
/// paid for, so that the first step is a quasi-Newton step rather than a steepest-descent
/// probe. Pairs without positive curvature (`s'y ≤ 0`) are skipped.
pub fn minimize_projected_bfgs_from<F: FnMut(&[f64], &mut [f64]) -> f64>(
    mut fg: F,
    x0: &[f64],
    lower: &[f64],
    partners: &[Vec<usize>],
    settings: &BfgsSettings,
    secants: &[(Vec<f64>, Vec<f64>)],
) -> BfgsOutcome {
    let n = x0.len();
    let mut x: Vec<f64> = x0.iter().zip(lower).map(|(&v, &l)| v.max(l)).collect();
    let mut g = vec![0.0; n];
    let mut f = fg(&x, &mut g);
    let mut evaluations = 1;
    if !f.is_finite() {
        return BfgsOutcome {
            x,
            f,
            evaluations,
            converged: false,
            message: "the objective is not finite at the starting point".to_string(),
        };
    }
    let mut h = identity(n);
    let mut fresh = true; // h is a (scaled) identity, not yet updated
    let mut active = vec![false; n];
    let mut restarts = 0;
    let (mut xn, mut gn, mut d, mut s, mut y, mut hy) = (
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
    );
    for (sk, yk) in secants
        .iter()
        .filter(|(sk, yk)| sk.len() == n && yk.len() == n)
    {
        let sy: f64 = sk.iter().zip(yk).map(|(a, b)| a * b).sum();
        let yy: f64 = yk.iter().map(|v| v * v).sum();
        let ss: f64 = sk.iter().map(|v| v * v).sum();
        if sy.is_finite() && sy > 1e-12 * (ss * yy).sqrt() {
            if fresh {
                for (i, row) in h.iter_mut().enumerate() {
                    row[i] = sy / yy;
                }
                fresh = false;
            }
            bfgs_update(&mut h, sk, yk, sy, &mut hy);
        }
    }
    loop {
        // Active set: on the bound with the gradient pointing out of the box.
        let mut changed = false;
        for i in 0..n {
            let a = x[i] <= lower[i] && g[i] > 0.0;
            changed |= a != active[i];
            active[i] = a;
        }
        if changed && !fresh {
            h = identity(n);
            fresh = true;
        }
        let pg_norm = (0..n)
            .filter(|&i| !active[i])
            .map(|i| g[i].abs())
            .fold(0.0, f64::max);
        let scale = f.abs().max(1.0);
        let mut converged = pg_norm <= settings.gtol * scale;

        if !converged {
            // d = −H g on the free variables.
            for i in 0..n {
                d[i] = if active[i] {
                    0.0
                } else {
                    -(0..n)
                        .filter(|&j| !active[j])
                        .map(|j| h[i][j] * g[j])
                        .sum::<f64>()
                };
            }
            let mut slope: f64 = (0..n).map(|i| d[i] * g[i]).sum();
            if slope >= 0.0 {
                h = identity(n);
                fresh = true;
                for i in 0..n {
                    d[i] = if active[i] { 0.0 } else { -g[i] };
                }
                slope = (0..n).map(|i| d[i] * g[i]).sum();
            }
            // The very first step: limit the trust in an unscaled identity.
            let mut alpha = if fresh {
                let dn = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                (1.0f64).min(0.5 / dn.max(f64::MIN_POSITIVE))
            } else {
                1.0
            };
            let mut accepted = false;
            let mut f_accepted = f;
            for _ in 0..30 {
                // A step whose predicted decrease is below the rounding level of f cannot be
                // verified: the search has converged as far as f can tell.
                if evaluations >= settings.max_evaluations
                    || -slope * alpha <= 8.0 * f64::EPSILON * f.abs().max(1.0)
                {
                    break;
                }
                for i in 0..n {
                    xn[i] = (x[i] + alpha * d[i]).max(lower[i]);
                }
                let fnew = fg(&xn, &mut gn);
                evaluations += 1;
                let decrease: f64 = (0..n).map(|i| g[i] * (xn[i] - x[i])).sum();
                if fnew.is_finite() && fnew <= f + 1e-4 * decrease.min(0.0) && fnew <= f {
                    accepted = true;
                    f_accepted = fnew;
                    break;
                }
                // Quadratic interpolation of the step, safeguarded.
                let denom = 2.0 * (fnew - f - alpha * slope);
                let next = if fnew.is_finite() && denom > 0.0 {
                    (-slope * alpha * alpha / denom).clamp(0.1 * alpha, 0.5 * alpha)
                } else {
                    0.25 * alpha
                };
                alpha = next;
            }
            if accepted {
                let mut sy = 0.0;
                let (mut yy, mut ss) = (0.0, 0.0);
                for i in 0..n {
                    s[i] = xn[i] - x[i];
                    y[i] = gn[i] - g[i];
                    sy += s[i] * y[i];
                    yy += y[i] * y[i];
                    ss += s[i] * s[i];
                }
                let fold = f;
                x.copy_from_slice(&xn);
                g.copy_from_slice(&gn);
                f = f_accepted;
                if sy > 1e-12 * (ss * yy).sqrt() {
                    if fresh {
                        // Shanno–Phua scaling of the initial approximation.
                        let gamma = sy / yy;
                        h = identity(n);
                        for (i, row) in h.iter_mut().enumerate() {
                            row[i] = gamma;
                        }
                        fresh = false;
                    }
                    bfgs_update(&mut h, &s, &y, sy, &mut hy);
                }
                let rel = (fold - f).abs() / scale;
                let step = s.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                let xs = x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                if rel <= 1e-15 && step <= 1e-12 * xs {
                    converged = true;
                }
            } else if evaluations < settings.max_evaluations {
                // No decrease along the quasi-Newton direction: retry once from steepest
                // descent; if that fails too the point is optimal to rounding (or the
                // objective is not smooth here, which a large projected gradient reveals).
                let at_rounding = -slope * alpha <= 8.0 * f64::EPSILON * scale;
                if !fresh && !at_rounding {
                    h = identity(n);
                    fresh = true;
                    continue;
                }
                if pg_norm > 1e-5 * scale && !at_rounding {
                    return BfgsOutcome {
                        x,
                        f,
                        evaluations,
                        converged: false,
                        message: "stopped: the line search found no decrease".to_string(),
                    };
                }
                converged = true;
            }
        }

        if evaluations >= settings.max_evaluations && !converged {
            return BfgsOutcome {
                x,
                f,
                evaluations,
                converged: false,
                message: format!(
                    "stopped: reached the maximum of {} objective evaluations",
                    settings.max_evaluations
                ),
            };
        }
        if converged {
            // Boundary probe: the objective is flat to first order at θ = 0 for scalar terms.
            // Probing only near the bound costs nothing for interior optima.
            if restarts < 3 && evaluations + 2 * n <= settings.max_evaluations {
                let mut improved = false;
                for i in 0..n {
                    // On or within a probe step of the bound: the objective's symmetry makes
                    // such points stationary even where they are saddles.
                    if !(lower[i].is_finite() && x[i] < lower[i] + settings.boundary_probe) {
                        continue;
                    }
                    let flips = partners.get(i).map_or(&[][..], Vec::as_slice);
                    let signs: &[f64] = if flips.iter().any(|&j| x[j] != 0.0) {
                        &[1.0, -1.0]
                    } else {
                        &[1.0]
                    };
                    for &sign in signs {
                        xn.copy_from_slice(&x);
                        xn[i] = lower[i] + settings.boundary_probe;
                        for &j in flips {
                            xn[j] *= sign;
                        }
                        let fp = fg(&xn, &mut gn);
                        evaluations += 1;
                        if fp < f {
                            x.copy_from_slice(&xn);
                            g.copy_from_slice(&gn);
                            f = fp;
                            improved = true;
                        }
                    }
                }
                if improved {
                    restarts += 1;
                    h = identity(n);
                    fresh = true;
                    active.fill(false);
                    continue;
                }
            }
            return BfgsOutcome {
                x,
                f,
                evaluations,
                converged: true,
                message: "projected gradient below tolerance".to_string(),
            };
        }
    }
}

fn identity(n: usize) -> Vec<Vec<f64>> {
    (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect()
}

/// Inverse BFGS update `H ← (I − ρsy')H(I − ρys') + ρss'`, ρ = 1/(s'y).
fn bfgs_update(h: &mut [Vec<f64>], s: &[f64], y: &[f64], sy: f64, hy: &mut [f64]) {
    let n = s.len();
    let rho = 1.0 / sy;
    for i in 0..n {
        hy[i] = (0..n).map(|j| h[i][j] * y[j]).sum();
    }
    let yhy: f64 = (0..n).map(|i| y[i] * hy[i]).sum();
    for i in 0..n {
        for j in 0..n {
            h[i][j] += -rho * (hy[i] * s[j] + s[i] * hy[j]) + (rho * rho * yhy + rho) * s[i] * s[j];
        }
    }
}
