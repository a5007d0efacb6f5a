//! The covariance parameter vector θ: its layout over the random-effects terms, its bounds and
//! starting value, and the per-term relative covariance factors λ built from it.
//!
//! Layout (lme4's): for each term in formula order, the lower triangle of its k×k relative
//! covariance factor λ, column by column. Diagonal elements are bounded below by 0, the
//! others are unbounded. The start is λ = I. The relative covariance of a term's random
//! effects for one level is λλ' (times σ²), and Λ = blockdiag over terms of I_levels ⊗ λ.

use crate::design::RandomEffectsTerm;

/// Where each term's λ lives in θ, and which elements are diagonal.
#[derive(Debug, Clone, PartialEq)]
pub struct ThetaLayout {
    /// Per term (formula order): width k of the term.
    widths: Vec<usize>,
    /// Per term (formula order): offset of its first θ element.
    offsets: Vec<usize>,
    /// Total number of θ elements.
    len: usize,
}

impl ThetaLayout {
    /// The layout for terms of the given widths, in formula order.
    pub fn new(widths: &[usize]) -> Self {
        let mut offsets = Vec::with_capacity(widths.len());
        let mut len = 0;
        for &k in widths {
            offsets.push(len);
            len += k * (k + 1) / 2;
        }
        Self {
            widths: widths.to_vec(),
            offsets,
            len,
        }
    }

    /// The layout for the terms of a model, in the order given.
    pub fn for_terms(terms: &[RandomEffectsTerm]) -> Self {
        let widths: Vec<usize> = terms.iter().map(RandomEffectsTerm::width).collect();
        Self::new(&widths)
    }

    /// Number of θ elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no θ elements (no random-effects terms).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of terms.
    pub fn nterms(&self) -> usize {
        self.widths.len()
    }

    /// Width k of term `t` (formula order).
    pub fn width(&self, t: usize) -> usize {
        self.widths[t]
    }

    /// The θ elements of term `t` (formula order).
    pub fn term_range(&self, t: usize) -> std::ops::Range<usize> {
        let k = self.widths[t];
        self.offsets[t]..self.offsets[t] + k * (k + 1) / 2
    }

    /// Per θ element: true when it is a diagonal element of its λ.
    pub fn diagonal_mask(&self) -> Vec<bool> {
        let mut mask = Vec::with_capacity(self.len);
        for &k in &self.widths {
            for j in 0..k {
                for i in j..k {
                    mask.push(i == j);
                }
            }
        }
        mask
    }

    /// Per θ element: for a diagonal element of λ, the θ positions of the entries below it in
    /// the same column (negating them together leaves λλ' unchanged when the diagonal is 0);
    /// empty for off-diagonal elements.
    pub fn column_partners(&self) -> Vec<Vec<usize>> {
        let mut partners = Vec::with_capacity(self.len);
        let mut offset = 0;
        for &k in &self.widths {
            for j in 0..k {
                // Column j occupies positions offset..offset + (k - j): diagonal first.
                partners.push((offset + 1..offset + (k - j)).collect());
                partners.extend((j + 1..k).map(|_| Vec::new()));
                offset += k - j;
            }
        }
        partners
    }

    /// The θ positions of every column of every λ (formula order, term by term): column `j`
    /// of a width-k term is `k − j` consecutive positions, its diagonal element first.
    pub fn columns(&self) -> Vec<std::ops::Range<usize>> {
        let mut columns = Vec::new();
        let mut offset = 0;
        for &k in &self.widths {
            for j in 0..k {
                columns.push(offset..offset + (k - j));
                offset += k - j;
            }
        }
        columns
    }

    /// lme4's lower bounds: 0 on diagonal elements, −∞ elsewhere.
    pub fn lower_bounds(&self) -> Vec<f64> {
        self.diagonal_mask()
            .into_iter()
            .map(|d| if d { 0.0 } else { f64::NEG_INFINITY })
            .collect()
    }

    /// lme4's starting value: λ = I for every term.
    pub fn initial(&self) -> Vec<f64> {
        self.diagonal_mask()
            .into_iter()
            .map(|d| if d { 1.0 } else { 0.0 })
            .collect()
    }

    /// lme4's `isSingular`: some diagonal element of some λ is below `tol` (lme4 uses 1e-4).
    pub fn is_singular(&self, theta: &[f64], tol: f64) -> bool {
        self.diagonal_mask()
            .iter()
            .zip(theta)
            .any(|(&d, &v)| d && v < tol)
    }

    /// Writes term `t`'s λ (k×k, column-major, upper triangle zero) from θ into `lambda`.
    pub fn fill_lambda(&self, t: usize, theta: &[f64], lambda: &mut [f64]) {
        let k = self.widths[t];
        fill_lower_triangle(k, &theta[self.term_range(t)], lambda);
    }
}

/// Expands a packed column-wise lower triangle into a k×k column-major matrix.
pub fn fill_lower_triangle(k: usize, packed: &[f64], full: &mut [f64]) {
    let mut idx = 0;
    for j in 0..k {
        for i in 0..k {
            full[i + j * k] = if i >= j {
                let v = packed[idx];
                idx += 1;
                v
            } else {
                0.0
            };
        }
    }
}

/// Relative covariance λλ' of one term (k×k, column-major).
pub fn relative_covariance(k: usize, lambda: &[f64]) -> Vec<f64> {
    let mut cov = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            cov[i + j * k] = (0..k).map(|c| lambda[i + c * k] * lambda[j + c * k]).sum();
        }
    }
    cov
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_packs_lower_triangles_column_wise() {
        let layout = ThetaLayout::new(&[2, 1, 3]);
        assert_eq!(layout.len(), 3 + 1 + 6);
        assert_eq!(layout.term_range(1), 3..4);
        assert_eq!(layout.term_range(2), 4..10);
        assert_eq!(
            layout.diagonal_mask(),
            vec![true, false, true, true, true, false, false, true, false, true]
        );
        assert_eq!(
            layout.initial(),
            vec![1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0]
        );
        let lower = layout.lower_bounds();
        assert_eq!(lower[0], 0.0);
        assert_eq!(lower[1], f64::NEG_INFINITY);
    }

    #[test]
    fn column_partners_are_the_entries_below_each_diagonal() {
        let layout = ThetaLayout::new(&[3, 1]);
        // θ = [l00, l10, l20, l11, l21, l22, m00]
        assert_eq!(
            layout.column_partners(),
            vec![vec![1, 2], vec![], vec![], vec![4], vec![], vec![], vec![]]
        );
    }

    #[test]
    fn columns_start_at_their_diagonal() {
        let layout = ThetaLayout::new(&[3, 1]);
        assert_eq!(layout.columns(), vec![0..3, 3..5, 5..6, 6..7]);
        let diagonal = layout.diagonal_mask();
        assert!(layout.columns().iter().all(|c| diagonal[c.start]));
    }

    #[test]
    fn lambda_is_filled_column_major() {
        let layout = ThetaLayout::new(&[2]);
        let mut lambda = [9.0; 4];
        layout.fill_lambda(0, &[1.0, 2.0, 3.0], &mut lambda);
        // [[1, 0], [2, 3]] column-major.
        assert_eq!(lambda, [1.0, 2.0, 0.0, 3.0]);
        let cov = relative_covariance(2, &lambda);
        assert_eq!(cov, vec![1.0, 2.0, 2.0, 13.0]);
    }

    #[test]
    fn singularity_looks_at_diagonals_only() {
        let layout = ThetaLayout::new(&[2]);
        assert!(!layout.is_singular(&[1.0, 0.0, 1.0], 1e-4));
        assert!(layout.is_singular(&[1.0, 5.0, 1e-5], 1e-4));
    }
}
