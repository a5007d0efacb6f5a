//! [`Link`]: the link functions of the GLMM families, g(μ) = η, with R's `make.link`
//! numerics (the inverse link and dμ/dη clamped as R's C code clamps them, so that μ never
//! reaches the boundary of the family's support and the working weights stay positive).

use serde::Serialize;

use crate::normal::erfc;

/// R's `.Machine$double.eps`.
const EPS: f64 = f64::EPSILON;
/// R's logit thresholds (`THRESH`, `MTHRESH` in `family.c`).
const LOGIT_THRESH: f64 = 30.0;
/// R's probit threshold `-qnorm(.Machine$double.eps)`.
const PROBIT_THRESH: f64 = 8.125_890_664_701_906;

/// A link function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Link {
    /// log(μ/(1 − μ)), the binomial's canonical link.
    Logit,
    /// Φ⁻¹(μ).
    Probit,
    /// log(−log(1 − μ)).
    Cloglog,
    /// log(μ), the Poisson's canonical link.
    Log,
    /// μ (the Gaussian's).
    Identity,
    /// 1/μ, the Gamma's canonical link (up to sign) and R's default for `Gamma()`.
    Inverse,
}

impl Link {
    /// The name as R writes it: `logit`, `probit`, `cloglog`, `log`, `identity`, `inverse`.
    pub fn name(self) -> &'static str {
        match self {
            Link::Logit => "logit",
            Link::Probit => "probit",
            Link::Cloglog => "cloglog",
            Link::Log => "log",
            Link::Identity => "identity",
            Link::Inverse => "inverse",
        }
    }

    /// The link called `name` (R's spelling).
    pub fn from_name(name: &str) -> Option<Link> {
        [
            Link::Logit,
            Link::Probit,
            Link::Cloglog,
            Link::Log,
            Link::Identity,
            Link::Inverse,
        ]
        .into_iter()
        .find(|l| l.name() == name)
    }

    /// μ = g⁻¹(η), clamped inside the support as R clamps it.
    pub fn inverse(self, eta: f64) -> f64 {
        match self {
            Link::Logit => {
                let t = if eta < -LOGIT_THRESH {
                    EPS
                } else if eta > LOGIT_THRESH {
                    1.0 / EPS
                } else {
                    eta.exp()
                };
                t / (1.0 + t)
            }
            Link::Probit => {
                let e = eta.clamp(-PROBIT_THRESH, PROBIT_THRESH);
                pnorm(e)
            }
            Link::Cloglog => (-(-eta.exp()).exp_m1()).clamp(EPS, 1.0 - EPS),
            Link::Log => eta.exp().max(EPS),
            Link::Identity => eta,
            Link::Inverse => 1.0 / eta,
        }
    }

    /// (μ, dμ/dη) at η, with one exponential for the logit and log links.
    pub fn inverse_and_derivative(self, eta: f64) -> (f64, f64) {
        match self {
            Link::Logit if eta.abs() <= LOGIT_THRESH => {
                let e = eta.exp();
                let o = 1.0 + e;
                (e / o, e / (o * o))
            }
            Link::Log => {
                let e = eta.exp().max(EPS);
                (e, e)
            }
            _ => (self.inverse(eta), self.mu_eta(eta)),
        }
    }

    /// d²μ/dη² at η for the canonical links (logit, log), given μ and dμ/dη there: the
    /// derivative of the working weight `dμ/dη`. Zero where R's clamps make μ constant in η.
    /// `None` for the other links, whose working weights are not `dμ/dη`.
    pub fn canonical_second_derivative(self, eta: f64, mu: f64, mu_eta: f64) -> Option<f64> {
        match self {
            Link::Logit if eta.abs() > LOGIT_THRESH => Some(0.0),
            Link::Logit => Some(mu_eta * (1.0 - 2.0 * mu)),
            Link::Log if mu <= EPS => Some(0.0),
            Link::Log => Some(mu),
            _ => None,
        }
    }

    /// dμ/dη at η, bounded below by machine ε as in R.
    pub fn mu_eta(self, eta: f64) -> f64 {
        match self {
            Link::Logit => {
                if eta.abs() > LOGIT_THRESH {
                    EPS
                } else {
                    let e = eta.exp();
                    let o = 1.0 + e;
                    e / (o * o)
                }
            }
            Link::Probit => dnorm(eta).max(EPS),
            Link::Cloglog => {
                let e = eta.min(700.0).exp();
                (e * (-e).exp()).max(EPS)
            }
            Link::Log => eta.exp().max(EPS),
            Link::Identity => 1.0,
            Link::Inverse => -1.0 / (eta * eta),
        }
    }
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The standard normal distribution function Φ(x).
pub(crate) fn pnorm(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// The standard normal density φ(x).
pub(crate) fn dnorm(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_links_and_derivatives_agree() {
        for link in [
            Link::Logit,
            Link::Probit,
            Link::Cloglog,
            Link::Log,
            Link::Inverse,
        ] {
            for &eta in &[-3.0, -0.5, 0.3, 0.7, 2.5] {
                let h = 1e-6;
                let numeric = (link.inverse(eta + h) - link.inverse(eta - h)) / (2.0 * h);
                let exact = link.mu_eta(eta);
                assert!(
                    (numeric - exact).abs() < 1e-7 * (1.0 + exact.abs()),
                    "{link} at {eta}: {numeric} vs {exact}"
                );
            }
        }
        assert!((Link::Logit.inverse(0.0) - 0.5).abs() < 1e-15);
        assert!((Link::Probit.inverse(1.959963984540054) - 0.975).abs() < 1e-12);
        assert!(Link::Logit.inverse(100.0) < 1.0);
        assert!(Link::Cloglog.inverse(-100.0) > 0.0);
        assert_eq!(Link::from_name("cloglog"), Some(Link::Cloglog));
    }
}
