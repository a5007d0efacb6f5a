//! [`Family`]: the response distribution of a generalised linear mixed model and its link —
//! variance function, deviance residuals and the log-density that lme4's `aic()` sums — with
//! R's `binomial()` and `poisson()` conventions and MASS's `negative.binomial(theta)`.

use serde::Serialize;

use super::link::Link;

/// The conditional distribution of the response given the random effects, with its link
/// ([`crate::FitOptions::with_family`]). `Gaussian` with the identity link is the linear
/// mixed model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Family {
    /// Normal errors, identity link: a linear mixed model (`lmer`).
    #[default]
    Gaussian,
    /// Binomial: a 0/1 or two-level response, `cbind(successes, failures)`, or a proportion
    /// with the number of trials as prior weights. Links: logit (canonical), probit, cloglog.
    Binomial(Link),
    /// Poisson counts. Link: log (canonical).
    Poisson(Link),
    /// Negative binomial counts (MASS's `negative.binomial(theta)`, lme4's `glmer.nb`):
    /// variance μ + μ²/θ. Link: log (not canonical). `None`: θ is estimated by maximising
    /// the Laplace log-likelihood over it, as `glmer.nb` does; a fitted model reports the
    /// estimate.
    NegativeBinomial(Link, Option<Shape>),
    /// Gamma: positive continuous responses, variance φμ² with the dispersion φ estimated
    /// (R's `Gamma()`; lme4 plugs φ = deviance/n into the density). Links: inverse (R's
    /// default), log, identity.
    Gamma(Link),
}

/// The negative binomial's shape θ (> 0, finite), held by its bits so that a [`Family`] stays
/// `Eq` and `Hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape(u64);

impl Shape {
    /// θ, if positive and finite.
    pub fn new(theta: f64) -> Option<Shape> {
        (theta.is_finite() && theta > 0.0).then(|| Shape(theta.to_bits()))
    }

    /// θ.
    pub fn value(self) -> f64 {
        f64::from_bits(self.0)
    }
}

impl Family {
    /// The family with its default link from R's name: `gaussian`, `binomial`, `poisson`,
    /// `negative.binomial` (θ to be estimated; see [`Family::with_shape`]).
    pub fn from_name(name: &str) -> Option<Family> {
        match name {
            "gaussian" => Some(Family::Gaussian),
            "binomial" => Some(Family::Binomial(Link::Logit)),
            "poisson" => Some(Family::Poisson(Link::Log)),
            "negative.binomial" => Some(Family::NegativeBinomial(Link::Log, None)),
            "Gamma" => Some(Family::Gamma(Link::Inverse)),
            _ => None,
        }
    }

    /// The same family with another link, if the family supports it (binomial: logit,
    /// probit, cloglog; Poisson and negative binomial: log; Gamma: inverse, log, identity;
    /// Gaussian: identity).
    pub fn with_link(self, link: Link) -> Option<Family> {
        match (self, link) {
            (Family::Binomial(_), Link::Logit | Link::Probit | Link::Cloglog) => {
                Some(Family::Binomial(link))
            }
            (Family::Poisson(_), Link::Log) => Some(Family::Poisson(link)),
            (Family::NegativeBinomial(_, shape), Link::Log) => {
                Some(Family::NegativeBinomial(link, shape))
            }
            (Family::Gamma(_), Link::Inverse | Link::Log | Link::Identity) => {
                Some(Family::Gamma(link))
            }
            (Family::Gaussian, Link::Identity) => Some(Family::Gaussian),
            _ => None,
        }
    }

    /// The negative binomial with shape θ (`None` for any other family or an invalid θ).
    pub fn with_shape(self, theta: f64) -> Option<Family> {
        match self {
            Family::NegativeBinomial(link, _) => {
                Shape::new(theta).map(|s| Family::NegativeBinomial(link, Some(s)))
            }
            _ => None,
        }
    }

    /// The negative binomial's θ, when set.
    pub fn shape(self) -> Option<f64> {
        match self {
            Family::NegativeBinomial(_, s) => s.map(Shape::value),
            _ => None,
        }
    }

    /// True for the families with a dispersion parameter estimated beside the others (Gamma):
    /// σ in the summary, standard errors and variance components scaled by it, and one more
    /// parameter in the log-likelihood's degrees of freedom.
    pub fn has_dispersion(self) -> bool {
        matches!(self, Family::Gamma(_))
    }

    /// R's name: `gaussian`, `binomial`, `poisson`, `negative.binomial`, `Gamma`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Gaussian => "gaussian",
            Family::Binomial(_) => "binomial",
            Family::Poisson(_) => "poisson",
            Family::NegativeBinomial(..) => "negative.binomial",
            Family::Gamma(_) => "Gamma",
        }
    }

    /// True for the count families (Poisson, negative binomial).
    pub fn is_count(self) -> bool {
        matches!(self, Family::Poisson(_) | Family::NegativeBinomial(..))
    }

    /// θ of a negative binomial; +∞ (the Poisson limit) while it is not yet set.
    fn nb_theta(self) -> f64 {
        self.shape().unwrap_or(f64::INFINITY)
    }

    /// The link.
    pub fn link(self) -> Link {
        match self {
            Family::Gaussian => Link::Identity,
            Family::Binomial(l)
            | Family::Poisson(l)
            | Family::NegativeBinomial(l, _)
            | Family::Gamma(l) => l,
        }
    }

    /// True when the link is the family's canonical link (binomial–logit, Poisson–log): the
    /// working weights are then `w·dμ/dη` and the observed and expected information agree.
    pub fn is_canonical(self) -> bool {
        matches!(
            self,
            Family::Binomial(Link::Logit) | Family::Poisson(Link::Log) | Family::Gaussian
        )
    }

    /// True for the families fitted as GLMMs (everything but the Gaussian).
    pub fn is_glmm(self) -> bool {
        !matches!(self, Family::Gaussian)
    }

    /// The variance function V(μ).
    pub fn variance(self, mu: f64) -> f64 {
        match self {
            Family::Gaussian => 1.0,
            Family::Binomial(_) => mu * (1.0 - mu),
            Family::Poisson(_) => mu,
            Family::NegativeBinomial(..) => {
                let theta = self.nb_theta();
                mu + mu * mu / theta
            }
            Family::Gamma(_) => mu * mu,
        }
    }

    /// The deviance residual of one observation (R's `dev.resids`), with glm weight `wt`.
    pub fn deviance_residual(self, y: f64, mu: f64, wt: f64) -> f64 {
        match self {
            Family::Gaussian => wt * (y - mu) * (y - mu),
            Family::Binomial(_) => 2.0 * wt * (y_log_y(y, mu) + y_log_y(1.0 - y, 1.0 - mu)),
            Family::Poisson(_) => {
                let r = if y > 0.0 {
                    y * (y / mu).ln() - (y - mu)
                } else {
                    mu
                };
                2.0 * wt * r
            }
            Family::NegativeBinomial(..) => {
                // MASS's negative.binomial()$dev.resids.
                let theta = self.nb_theta();
                if theta.is_infinite() {
                    return Family::Poisson(Link::Log).deviance_residual(y, mu, wt);
                }
                2.0 * wt
                    * (y * (y.max(1.0) / mu).ln() - (y + theta) * ((y + theta) / (mu + theta)).ln())
            }
            // R's Gamma()$dev.resids.
            Family::Gamma(_) => {
                let ratio = if y == 0.0 { 1.0 } else { y / mu };
                -2.0 * wt * (ratio.ln() - (y - mu) / mu)
            }
        }
    }
}

impl Serialize for Family {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl std::fmt::Display for Family {
    /// R's `family$family`: `binomial`, `poisson`, `Negative Binomial(2.0522)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.shape() {
            Some(theta) => write!(f, "Negative Binomial({})", r_round4(theta)),
            None => f.write_str(self.name()),
        }
    }
}

/// `format(round(x, 4))` as R prints it: at most four decimals, trailing zeros dropped.
fn r_round4(x: f64) -> String {
    let s = format!("{:.4}", (x * 1e4).round() / 1e4);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// y·log(y/μ), 0 at y = 0 (R's `y_log_y`).
fn y_log_y(y: f64, mu: f64) -> f64 {
    if y > 0.0 {
        y * (y / mu).ln()
    } else {
        0.0
    }
}

/// log Γ(x) for x > 0 (Lanczos, g = 7, nine terms; relative error below 1e-15 in the range
/// the binomial and Poisson constants need).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// log of the binomial coefficient C(n, k).
pub(crate) fn ln_choose(n: f64, k: f64) -> f64 {
    if k == 0.0 || k == n {
        // log C(n, 0) = log C(n, n) = 0 exactly (every bernoulli row), without three
        // log-gamma evaluations that cancel only to rounding.
        return 0.0;
    }
    ln_gamma(n + 1.0) - ln_gamma(k + 1.0) - ln_gamma(n - k + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_gamma_matches_factorials() {
        let mut f = 0.0f64;
        for n in 1..60 {
            f += (n as f64).ln();
            let got = ln_gamma(n as f64 + 1.0);
            assert!((got - f).abs() < 1e-12 * f.max(1.0), "{n}: {got} vs {f}");
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
        assert!((ln_choose(14.0, 2.0) - 91f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn deviance_residuals_are_zero_at_the_data() {
        let b = Family::Binomial(Link::Logit);
        assert!(b.deviance_residual(0.25, 0.25, 4.0).abs() < 1e-15);
        assert!(b.deviance_residual(0.0, 0.3, 1.0) > 0.0);
        let p = Family::Poisson(Link::Log);
        assert!(p.deviance_residual(3.0, 3.0, 1.0).abs() < 1e-15);
        assert!((p.deviance_residual(0.0, 2.0, 1.0) - 4.0).abs() < 1e-15);
        assert_eq!(
            Family::from_name("binomial").unwrap().with_link(Link::Log),
            None
        );
    }
}
