//! The tail probabilities and quantiles the tests and intervals need: Student t (two-sided),
//! χ² (upper tail) and the normal quantile, through statrs' regularised incomplete beta and
//! gamma functions, which keep their relative accuracy far into the tails (p = 10⁻¹⁷ for
//! sleepstudy's intercept).

use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::beta_reg;
use statrs::function::gamma::gamma_ur;

/// `2·P(T > |t|)` for Student's t with `df` degrees of freedom: `I_{df/(df+t²)}(df/2, 1/2)`.
/// NaN for a non-finite or non-positive `df`.
pub fn student_t_two_sided(t: f64, df: f64) -> f64 {
    if df.is_nan() || df <= 0.0 || t.is_nan() {
        return f64::NAN;
    }
    if df.is_infinite() {
        return crate::normal::two_sided_p(t);
    }
    let x = df / (df + t * t);
    beta_reg(df / 2.0, 0.5, x)
}

/// `P(χ²_df > x)`.
pub fn chi_squared_upper(x: f64, df: f64) -> f64 {
    if df.is_nan() || df <= 0.0 || x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    gamma_ur(df / 2.0, x / 2.0)
}

/// The standard normal quantile `Φ⁻¹(p)`.
pub fn normal_quantile(p: f64) -> f64 {
    // Normal::new(0, 1) cannot fail.
    Normal::new(0.0, 1.0).map_or(f64::NAN, |n| n.inverse_cdf(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_match_r() {
        // pt(6.77148460569085, 16.9999990263063, lower = FALSE) * 2 (lmerTest, sleepstudy Days).
        let p = student_t_two_sided(6.77148460569085, 16.9999990263063);
        assert!((p / 3.26379001973881e-06 - 1.0).abs() < 1e-9, "{p}");
        // pchisq(42.139298542025, 2, lower = FALSE).
        let p = chi_squared_upper(42.139298542025, 2.0);
        assert!((p / 7.07241254719947e-10 - 1.0).abs() < 1e-9, "{p}");
        assert!((normal_quantile(0.975) - 1.959963984540054).abs() < 1e-12);
    }
}
