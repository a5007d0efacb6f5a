//! [`LogProduct`]: the log-determinant accumulator of the factor.

/// `Σ log xᵢ` for positive `xᵢ`, computed as the log of running products (rescaled before
/// they can overflow or underflow): one `ln` per many factors instead of one per factor.
#[derive(Debug, Clone, Copy)]
pub(super) struct LogProduct {
    product: f64,
    log: f64,
}

impl Default for LogProduct {
    fn default() -> Self {
        Self {
            product: 1.0,
            log: 0.0,
        }
    }
}

impl LogProduct {
    #[inline]
    pub(super) fn push(&mut self, x: f64) {
        self.product *= x;
        if !(1e-150..=1e150).contains(&self.product) {
            self.log += self.product.ln();
            self.product = 1.0;
        }
    }

    pub(super) fn ln(self) -> f64 {
        self.log + self.product.ln()
    }
}
