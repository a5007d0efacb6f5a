//! [`FitSummary`]: a MixedModels.jl-style plain-text summary of a fit, with fixed float
//! formatting so that the same fit always prints the same bytes.
//!
//! ```text
//! Linear mixed model fit by maximum likelihood
//!  Reaction ~ 1 + Days + (1 + Days|Subject)
//!    logLik   -2 logLik       AIC       AICc        BIC
//!  -875.9697  1751.9393  1763.9393  1764.4249  1783.0971
//!
//! Variance components:
//!             Column     Variance  Std.Dev.   Corr.
//! Subject  (Intercept)  565.515    23.7806
//!          Days          32.6822    5.71683  +0.08
//! Residual              654.941    25.5918
//!  Number of obs: 180; levels of grouping factors: 18
//!
//!   Fixed-effects parameters:
//! ─────────────────────────────────────────────────
//!                 Coef.  Std. Error      z  Pr(>|z|)
//! ─────────────────────────────────────────────────
//! (Intercept)  251.405      6.63228  37.91    <1e-99
//! Days          10.4673     1.50224   6.97    <1e-11
//! ─────────────────────────────────────────────────
//! ```

use std::fmt;

/// How the note about a fit that did not converge begins ([`crate::Fit::notes`]); the summary
/// prints that fact once, as a warning.
pub(crate) const NOT_CONVERGED_NOTE: &str = "the fit did not converge";

use crate::glmm::GlmmInfo;
use crate::lmm::deviance::Criterion;
use crate::lmm::fit_result::FitResult;

/// A fit together with the formula it came from, printable as a summary.
#[derive(Debug, Clone, Copy)]
pub struct FitSummary<'a> {
    /// The fit.
    pub fit: &'a FitResult,
    /// The model formula as written by the user.
    pub formula: &'a str,
    /// The notes of [`crate::Fit::notes`], each printed as `Note: …` at the end; `None` prints
    /// only what the result itself says (non-convergence, a singular fit).
    pub notes: Option<&'a [String]>,
    /// t tests with denominator degrees of freedom ([`crate::inference`]) to show instead of
    /// the z tests: columns `df`, `t`, `Pr(>|t|)`.
    pub tests: Option<&'a [crate::inference::CoefficientTest]>,
    /// For a GLMM: family, link and quadrature (printed as lme4 prints them); `None` for an
    /// LMM.
    pub glmm: Option<&'a GlmmInfo>,
}

impl FitResult {
    /// A printable summary of this fit.
    pub fn summary<'a>(&'a self, formula: &'a str) -> FitSummary<'a> {
        FitSummary {
            fit: self,
            formula,
            notes: None,
            tests: None,
            glmm: None,
        }
    }
}

/// `x` with `digits` significant digits in fixed notation, or in scientific notation when it
/// is very small or very large. Deterministic for a given value.
pub fn format_significant(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..9).contains(&magnitude) {
        return format!("{:.*e}", digits.saturating_sub(1), x);
    }
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

/// MixedModels.jl-style p-value: four decimals, or `<1e-k` below 1e-4.
pub fn format_p_value(p: f64) -> String {
    if p.is_nan() {
        return "NaN".to_string();
    }
    if p >= 1e-4 {
        return format!("{p:.4}");
    }
    let k = if p > 0.0 {
        (-p.log10()).floor().min(99.0) as i32
    } else {
        99
    };
    format!("<1e-{k}")
}

/// Writes rows of cells with per-column widths; `left[c]` left-aligns column `c`.
fn write_table(
    f: &mut fmt::Formatter<'_>,
    rows: &[Vec<String>],
    left: &[bool],
    gap: &str,
) -> fmt::Result {
    f.write_str(&aligned_table(rows, left, gap))
}

/// Rows of cells as text, one line each (trailing blanks trimmed), every column as wide as
/// its widest cell, columns separated by `gap`; `left[c]` left-aligns column `c`, the others
/// are right-aligned (the summary's tables, and the CLI's tables of post-fit results).
pub fn aligned_table(rows: &[Vec<String>], left: &[bool], gap: &str) -> String {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..ncols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str(gap);
            }
            let pad = " ".repeat(widths[c] - cell.chars().count());
            if left.get(c).copied().unwrap_or(false) {
                line.push_str(cell);
                line.push_str(&pad);
            } else {
                line.push_str(&pad);
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

impl fmt::Display for FitSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fit = self.fit;
        if let Some(info) = self.glmm {
            write_glmm_header(f, fit, info, self.formula)?;
        } else {
            match fit.criterion {
                Criterion::Ml => writeln!(f, "Linear mixed model fit by maximum likelihood")?,
                Criterion::Reml => writeln!(f, "Linear mixed model fit by REML")?,
            }
            writeln!(f, " {}", self.formula)?;
            if fit.criterion == Criterion::Reml {
                writeln!(f, " REML criterion at convergence: {:.4}", fit.objective)?;
            }
            let ic = [fit.loglik, -2.0 * fit.loglik, fit.aic, fit.aicc, fit.bic];
            write_table(
                f,
                &[
                    ["logLik", "-2 logLik", "AIC", "AICc", "BIC"]
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                    ic.iter().map(|v| format!("{v:.4}")).collect(),
                ],
                &[],
                "  ",
            )?;
        }
        writeln!(f)?;

        writeln!(f, "Variance components:")?;
        let mut rows = vec![vec![
            String::new(),
            "Column".to_string(),
            "Variance".to_string(),
            "Std.Dev.".to_string(),
            "Corr.".to_string(),
        ]];
        for vc in &fit.variance_components {
            for (j, column) in vc.columns.iter().enumerate() {
                let corr: Vec<String> = (0..j)
                    .map(|i| match vc.correlation(j, i) {
                        r if r.is_nan() => "NaN".to_owned(),
                        r => format!("{r:+.2}"),
                    })
                    .collect();
                rows.push(vec![
                    if j == 0 {
                        vc.group.clone()
                    } else {
                        String::new()
                    },
                    column.clone(),
                    format_significant(vc.variances[j], 6),
                    format_significant(vc.std_devs[j], 6),
                    corr.join(" "),
                ]);
            }
        }
        // A GLMM has no residual variance (σ = 1 by definition), as lme4 prints it, except
        // a family with a dispersion (Gamma), whose σ lme4 prints as the residual row.
        if self.glmm.is_none_or(|g| g.family.has_dispersion()) {
            rows.push(vec![
                "Residual".to_string(),
                String::new(),
                format_significant(fit.residual_variance(), 6),
                format_significant(fit.sigma, 6),
                String::new(),
            ]);
        }
        // The Corr. column only where some term has correlations to show (as MixedModels.jl).
        if fit
            .variance_components
            .iter()
            .all(|vc| vc.columns.len() < 2)
        {
            for row in &mut rows {
                row.pop();
            }
            write_table(f, &rows, &[true, true, false, false], "  ")?;
        } else {
            write_table(f, &rows, &[true, true, false, false, true], "  ")?;
        }
        let levels: Vec<String> = fit.groups.iter().map(|g| g.levels.to_string()).collect();
        writeln!(
            f,
            " Number of obs: {}; levels of grouping factors: {}",
            fit.nobs,
            levels.join(", ")
        )?;
        writeln!(f)?;

        writeln!(f, "  Fixed-effects parameters:")?;
        let mut rows = vec![vec![
            String::new(),
            "Coef.".to_string(),
            "Std. Error".to_string(),
            "z".to_string(),
            "Pr(>|z|)".to_string(),
        ]];
        match self.tests {
            Some(tests) => {
                rows[0] = ["", "Coef.", "Std. Error", "df", "t", "Pr(>|t|)"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                for t in tests {
                    rows.push(vec![
                        t.name.clone(),
                        format_significant(t.estimate, 6),
                        format_significant(t.std_error, 6),
                        format!("{:.2}", t.df),
                        format!("{:.2}", t.statistic),
                        format_p_value(t.p_value),
                    ]);
                }
            }
            None => {
                for fe in &fit.fixed {
                    rows.push(vec![
                        fe.name.clone(),
                        format_significant(fe.estimate, 6),
                        format_significant(fe.std_error, 6),
                        format!("{:.2}", fe.z()),
                        format_p_value(fe.p_value()),
                    ]);
                }
            }
        }
        let mut table = String::new();
        {
            // Render into a string first to know the rule width.
            struct Table<'r>(&'r [Vec<String>]);
            impl fmt::Display for Table<'_> {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    write_table(f, self.0, &[true], "  ")
                }
            }
            use fmt::Write;
            write!(table, "{}", Table(&rows))?;
        }
        let width = table.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        let rule = "─".repeat(width);
        let mut lines = table.lines();
        writeln!(f, "{rule}")?;
        if let Some(header) = lines.next() {
            writeln!(f, "{header}")?;
        }
        writeln!(f, "{rule}")?;
        for line in lines {
            writeln!(f, "{line}")?;
        }
        writeln!(f, "{rule}")?;

        // The fit's own notes when it has them (they include the convergence and singularity
        // notes); otherwise one line, and only when the certificate needed restarts or failed.
        if let Some(notes) = self.notes {
            // Non-convergence is a warning, not a note; the fit's note says the same thing.
            if !fit.converged {
                writeln!(f, "Warning: not converged: {}", fit.message)?;
            }
            for note in notes
                .iter()
                .filter(|n| fit.converged || !n.starts_with(NOT_CONVERGED_NOTE))
            {
                writeln!(f, "Note: {note}")?;
            }
            return Ok(());
        }
        if !fit.converged {
            writeln!(f, "Warning: not converged: {}", fit.message)?;
        } else if let Some(note) = fit.convergence.restart_note() {
            writeln!(f, "Note: {note}")?;
        }
        if fit.singular {
            writeln!(
                f,
                "Note: singular fit (a relative covariance factor has a zero on its diagonal)"
            )?;
        }
        Ok(())
    }
}

/// lme4's header of a GLMM summary: method, family and link, formula, and the AIC, BIC,
/// logLik, −2 logLik, deviance and df.resid line.
fn write_glmm_header(
    f: &mut fmt::Formatter<'_>,
    fit: &FitResult,
    info: &GlmmInfo,
    formula: &str,
) -> fmt::Result {
    let method = if info.nagq == 1 {
        "Laplace Approximation".to_owned()
    } else {
        format!("Adaptive Gauss-Hermite Quadrature, nAGQ = {}", info.nagq)
    };
    writeln!(
        f,
        "Generalized linear mixed model fit by maximum likelihood ({method})"
    )?;
    writeln!(f, " Family: {} ( {} )", info.family, info.link)?;
    writeln!(f, " {formula}")?;
    write_table(
        f,
        &[
            ["AIC", "BIC", "logLik", "-2 logLik", "deviance", "df.resid"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            vec![
                format!("{:.4}", fit.aic),
                format!("{:.4}", fit.bic),
                format!("{:.4}", fit.loglik),
                format!("{:.4}", -2.0 * fit.loglik),
                format!("{:.4}", info.deviance),
                info.df_resid.to_string(),
            ],
        ],
        &[],
        "  ",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits_are_fixed() {
        assert_eq!(format_significant(565.515271042699, 6), "565.515");
        assert_eq!(format_significant(0.0289758080829839, 6), "0.0289758");
        assert_eq!(format_significant(-0.0124491506129169, 6), "-0.0124492");
        assert_eq!(format_significant(1.5e-7, 3), "1.50e-7");
        assert_eq!(format_significant(0.0, 6), "0");
    }

    #[test]
    fn p_values_are_formatted_like_mixedmodels() {
        assert_eq!(format_p_value(0.04567), "0.0457");
        assert_eq!(format_p_value(3.2e-12), "<1e-11");
        assert_eq!(format_p_value(0.0), "<1e-99");
        assert_eq!(format_p_value(1e-300), "<1e-99");
    }
}
