//! [`DenseBlock`]: a dense column-major block of the factor.

use faer::{MatMut, MatRef};

/// Dimension from which a block is handed to faer instead of the hand loops.
pub const FAER_MIN_DIM: usize = 48;

/// A dense column-major block of the factor, `rows × cols`, leading dimension `rows`.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseBlock {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Column-major values.
    pub data: Vec<f64>,
}

impl DenseBlock {
    /// A zero block.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// Value at `(r, c)`.
    #[inline]
    pub fn get(&self, r: usize, c: usize) -> f64 {
        self.data[r + c * self.rows]
    }

    /// faer view.
    pub fn as_ref(&self) -> MatRef<'_, f64> {
        MatRef::from_column_major_slice(&self.data, self.rows, self.cols)
    }

    /// Mutable faer view.
    pub fn as_mut(&mut self) -> MatMut<'_, f64> {
        MatMut::from_column_major_slice_mut(&mut self.data, self.rows, self.cols)
    }

    /// Sets the lower triangle (diagonal included) to zero; the upper triangle of a diagonal
    /// block is never read.
    pub fn zero_lower(&mut self) {
        let n = self.rows;
        for c in 0..self.cols.min(n) {
            self.data[c + c * n..(c + 1) * n].fill(0.0);
        }
    }
}
