//! [`ThetaScaling`]: the internal, unit-free coordinates in which θ is optimised and the
//! convergence certificate is computed.
//!
//! Rescaling a random-effects column, `z_j → c·z_j` (time in seconds instead of days), leaves
//! the maximised likelihood unchanged but divides row `j` of the optimal λ by `c`. Optimisers
//! and derivative checks work with absolute lengths in θ (a trust-region radius, a starting
//! point λ = I, a finite-difference step), so on lme4's θ their behaviour depends on the user's
//! units. Internally every random-effects term's columns are therefore standardised:
//!
//! ```text
//!   Z̃ = Z S⁻¹,   λ̃ = S λ,   S = diag(s_1 … s_k),   s_j ≈ RMS of column j over the rows
//! ```
//!
//! so that `Z̃λ̃ = Zλ`: the model is the same, and `λ̃` is lower triangular with a non-negative
//! diagonal exactly when `λ` is, so the bounds are unchanged. In θ this is the diagonal map
//! `θ̃_e = s_row(e) · θ_e` (each element scaled by the scale of its λ row).
//!
//! Two choices make the map exact rather than merely accurate:
//!
//! * each `s_j` is the power of two nearest the column's RMS, so `θ ↔ θ̃` and `∂f/∂θ ↔ ∂f/∂θ̃`
//!   are exact in floating point, and the objective is evaluated at the user-scale θ with
//!   the unchanged cross-products — bit for bit what it would be on scaled cross-products.
//!   Rescaling a column by `c` changes the internal problem only by the ratio of `c` to its
//!   nearest power of two, a factor within `[1/√2, √2]`;
//! * β̂, its standard errors and the conditional modes are computed from the factor at the
//!   user-scale θ, so they need no back-transformation at all.
//!
//! The fixed-effects columns are not rescaled: the profiled objective does not depend on
//! β, ML is invariant under any nonsingular `X → XA`, REML changes by the constant
//! `log|A|²`, and the Cholesky factor of the `[X y]` block is invariant (exactly, for
//! powers of two) under column scaling — there is nothing for a scaling of X to improve.
//! Centring (a non-diagonal map) is not used either: it would not keep λ̃ triangular.

use crate::lmm::crossprod::CrossProducts;
use crate::lmm::theta::ThetaLayout;

/// Per θ element, the power of two by which it is multiplied to get the internal θ̃.
#[derive(Debug, Clone, PartialEq)]
pub struct ThetaScaling {
    scale: Vec<f64>,
}

/// The power of two nearest `x` on a log scale; 1 for a zero, non-finite or denormal `x`.
fn nearest_power_of_two(x: f64) -> f64 {
    if !(x.is_normal() && x > 0.0) {
        return 1.0;
    }
    // Exponents are clamped so that neither the scale nor its inverse overflows.
    let e = x.log2().round().clamp(-500.0, 500.0) as i32;
    2f64.powi(e)
}

impl ThetaScaling {
    /// The scaling for a model's cross-products: column `j` of a term has RMS
    /// `√(Σ_levels (Z_l'Z_l)_jj / n)` — read off the diagonal blocks, so no pass over the rows.
    pub fn new(cp: &CrossProducts, layout: &ThetaLayout) -> Self {
        let n = cp.nobs.max(1) as f64;
        let mut column_scale: Vec<Vec<f64>> = vec![Vec::new(); layout.nterms()];
        for (t, term) in cp.terms.iter().enumerate() {
            let k = term.width;
            let mut ss = vec![0.0; k];
            for block in cp.diagonal[t].chunks_exact(k * k) {
                for (j, s) in ss.iter_mut().enumerate() {
                    *s += block[j + j * k];
                }
            }
            column_scale[term.formula_index] = ss
                .iter()
                .map(|&s| nearest_power_of_two((s / n).sqrt()))
                .collect();
        }
        let mut scale = Vec::with_capacity(layout.len());
        for (t, columns) in column_scale.iter().enumerate() {
            let k = layout.width(t);
            for j in 0..k {
                // Column j holds the elements (i, j), i ≥ j, of λ; each lies in row i.
                scale.extend_from_slice(&columns[j..k]);
            }
        }
        Self { scale }
    }

    /// The same scaling for θ measured in units `unit` times larger (a power of two is taken,
    /// so the arithmetic stays exact): a GLMM whose linear predictor is in the response's
    /// units (identity link) or their inverse (inverse link) has θ in those units too.
    pub fn in_units_of(mut self, unit: f64) -> Self {
        let f = nearest_power_of_two(unit);
        for s in &mut self.scale {
            *s /= f;
        }
        self
    }

    /// The per-element scales (powers of two).
    pub fn scales(&self) -> &[f64] {
        &self.scale
    }

    /// θ̃ from the user's θ.
    pub fn to_internal(&self, theta: &[f64]) -> Vec<f64> {
        theta.iter().zip(&self.scale).map(|(t, s)| t * s).collect()
    }

    /// The user's θ from θ̃.
    pub fn to_user(&self, internal: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; internal.len()];
        self.user_into(internal, &mut out);
        out
    }

    /// Writes the user's θ for `internal` into `out`.
    pub fn user_into(&self, internal: &[f64], out: &mut [f64]) {
        for ((o, t), s) in out.iter_mut().zip(internal).zip(&self.scale) {
            *o = t / s;
        }
    }

    /// Turns `∂f/∂θ` into `∂f/∂θ̃` in place (`θ = θ̃/s`, so `∂f/∂θ̃ = (∂f/∂θ)/s`).
    pub fn gradient_to_internal(&self, gradient: &mut [f64]) {
        for (g, s) in gradient.iter_mut().zip(&self.scale) {
            *g /= s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::{ModelMatrices, RandomEffectsTerm};
    use faer::Mat;

    fn design(days_unit: f64) -> ModelMatrices {
        let n = 40;
        let days: Vec<f64> = (0..n).map(|i| (i % 10) as f64 * days_unit).collect();
        ModelMatrices {
            response: "y".into(),
            x: Mat::from_fn(n, 1, |_, _| 1.0),
            y: (0..n).map(|i| (i * 7 % 11) as f64).collect(),
            fixed_names: vec!["(Intercept)".into()],
            dropped_fixed: vec![],
            terms: vec![
                RandomEffectsTerm {
                    group: "g".into(),
                    columns: vec!["(Intercept)".into(), "Days".into()],
                    levels: (0..4).map(|l| l.to_string()).collect(),
                    refs: (0..n).map(|i| (i / 10) as u32).collect(),
                    z: days.iter().flat_map(|&d| [1.0, d]).collect(),
                },
                RandomEffectsTerm {
                    group: "h".into(),
                    columns: vec!["(Intercept)".into()],
                    levels: (0..5).map(|l| l.to_string()).collect(),
                    refs: (0..n).map(|i| (i % 5) as u32).collect(),
                    z: vec![1.0; n],
                },
            ],
            rows_dropped: 0,
            weights: None,
            notes: Vec::new(),
        }
    }

    fn scaling(days_unit: f64) -> ThetaScaling {
        let mm = design(days_unit);
        let cp = CrossProducts::new(&mm).unwrap();
        ThetaScaling::new(&cp, &ThetaLayout::for_terms(&mm.terms))
    }

    #[test]
    fn scales_are_powers_of_two_per_lambda_row() {
        // Days 0..9: RMS √28.5 ≈ 5.34, nearest power of two 4. θ = [λ11, λ21, λ22, μ].
        let s = scaling(1.0);
        assert_eq!(s.scales(), &[1.0, 4.0, 4.0, 1.0]);
        // Seconds instead of days: RMS 86 400 · 5.34 ≈ 4.6e5, nearest power of two 2¹⁹.
        let seconds = scaling(86_400.0);
        assert_eq!(seconds.scales()[1], 524_288.0);
        assert_eq!(seconds.scales()[0], 1.0);
    }

    #[test]
    fn the_map_is_exact_both_ways() {
        let s = scaling(1e-3);
        let theta = [0.3, -1e4 / 3.0, 7e3, 0.1];
        let back = s.to_user(&s.to_internal(&theta));
        assert_eq!(back, theta);
        let mut g = [1.0, 1.0, 1.0, 1.0];
        s.gradient_to_internal(&mut g);
        // ∂f/∂θ̃ · s = ∂f/∂θ.
        for (gi, si) in g.iter().zip(s.scales()) {
            assert_eq!(gi * si, 1.0);
        }
        assert_eq!(nearest_power_of_two(0.0), 1.0);
        assert_eq!(nearest_power_of_two(f64::NAN), 1.0);
        assert_eq!(nearest_power_of_two(3.0), 4.0);
        assert_eq!(nearest_power_of_two(0.7), 0.5);
    }
}
