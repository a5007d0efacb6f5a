//! [`symmetric_eigen`]: eigenvalues and eigenvectors of the certificate's small symmetric
//! Hessians (a few to a few dozen rows) by cyclic Jacobi rotations — accurate to rounding
//! for every eigenvalue, small or large, which is what a positive-definiteness test needs,
//! and cheaper than a general library call at these sizes.

/// Eigen-decomposition `A = V diag(values) V'` of a symmetric `n × n` matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct SymmetricEigen {
    /// Eigenvalues, ascending.
    pub values: Vec<f64>,
    /// Eigenvectors, column `c` (entries `c·n .. c·n + n`) for `values[c]`.
    pub vectors: Vec<f64>,
}

impl SymmetricEigen {
    /// The eigenvector of `values[c]`.
    pub fn vector(&self, c: usize) -> &[f64] {
        let n = self.values.len();
        &self.vectors[c * n..(c + 1) * n]
    }

    /// Smallest eigenvalue (+∞ for an empty matrix).
    pub fn min(&self) -> f64 {
        self.values.first().copied().unwrap_or(f64::INFINITY)
    }

    /// Largest eigenvalue (−∞ for an empty matrix).
    pub fn max(&self) -> f64 {
        self.values.last().copied().unwrap_or(f64::NEG_INFINITY)
    }
}

/// Eigen-decomposition of the symmetric `n × n` matrix `a` (column-major; being symmetric,
/// row-major is the same).
pub fn symmetric_eigen(a: &[f64], n: usize) -> SymmetricEigen {
    debug_assert_eq!(a.len(), n * n);
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i + i * n] = 1.0;
    }
    // Cyclic sweeps until the off-diagonal part is negligible against the diagonal; Jacobi
    // converges quadratically, 6–10 sweeps at most for these sizes.
    for _ in 0..64 {
        let off: f64 = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| m[i + j * n] * m[i + j * n])
            .sum();
        let diag: f64 = (0..n).map(|i| m[i + i * n] * m[i + i * n]).sum();
        if off <= f64::EPSILON * f64::EPSILON * diag || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p + q * n];
                if apq == 0.0 {
                    continue;
                }
                let (app, aqq) = (m[p + p * n], m[q + q * n]);
                // Rotation angle that zeroes a_pq (Golub & Van Loan, Algorithm 8.4.1).
                let tau = (aqq - app) / (2.0 * apq);
                let t = tau.signum() / (tau.abs() + (1.0 + tau * tau).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k + p * n], m[k + q * n]);
                    m[k + p * n] = c * mkp - s * mkq;
                    m[k + q * n] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p + k * n], m[q + k * n]);
                    m[p + k * n] = c * mpk - s * mqk;
                    m[q + k * n] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k + p * n], v[k + q * n]);
                    v[k + p * n] = c * vkp - s * vkq;
                    v[k + q * n] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| m[a + a * n].total_cmp(&m[b + b * n]));
    let values = order.iter().map(|&i| m[i + i * n]).collect();
    let vectors = order
        .iter()
        .flat_map(|&i| v[i * n..(i + 1) * n].to_vec())
        .collect();
    SymmetricEigen { values, vectors }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigenpairs_reconstruct_the_matrix() {
        let a = [4.0, 1.0, -2.0, 1.0, 2.0, 0.5, -2.0, 0.5, -3.0];
        let e = symmetric_eigen(&a, 3);
        assert!(e.values.windows(2).all(|w| w[0] <= w[1]));
        for c in 0..3 {
            let x = e.vector(c);
            for r in 0..3 {
                let ax: f64 = (0..3).map(|k| a[r + k * 3] * x[k]).sum();
                assert!((ax - e.values[c] * x[r]).abs() < 1e-12, "{ax} {}", x[r]);
            }
        }
        let trace: f64 = e.values.iter().sum();
        assert!((trace - 3.0).abs() < 1e-12);
    }

    #[test]
    fn tiny_eigenvalues_keep_their_sign() {
        // diag(1, 1e-12) rotated by 30°: the small eigenvalue must come out at 1e-12, not 0.
        let (c, s) = (3f64.sqrt() / 2.0, 0.5);
        let d = [1.0, 1e-12];
        let a = [
            c * c * d[0] + s * s * d[1],
            c * s * (d[0] - d[1]),
            c * s * (d[0] - d[1]),
            s * s * d[0] + c * c * d[1],
        ];
        let e = symmetric_eigen(&a, 2);
        assert!((e.min() - 1e-12).abs() < 1e-15, "{}", e.min());
        assert!((e.max() - 1.0).abs() < 1e-15);
        assert_eq!(symmetric_eigen(&[], 0).min(), f64::INFINITY);
        assert_eq!(symmetric_eigen(&[-2.0], 1).values, vec![-2.0]);
    }
}
