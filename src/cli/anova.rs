//! `lmm-report anova`: likelihood-ratio tests between nested models fitted to one data file,
//! as lme4's `anova(m0, m1, …)` (every model fitted by ML; see
//! [`lmm_engine::inference::anova`]). Owns the arguments, the text table and the exit codes:
//! 2 for input errors (a bad formula, models fitted to different rows).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use lmm_engine::inference::anova::{anova, Anova};
use lmm_engine::{Contrasts, FitOptions};

use super::stdout::{error_line, write_result};
use crate::io::source::{DataFormat, DataSource, ReadOptions};

/// Arguments of `lmm-report anova`.
#[derive(Debug, Args)]
pub struct AnovaArgs {
    /// The data file (as for `fit`: CSV, TSV, Parquet, Arrow IPC, or `-` for standard input).
    #[arg(long)]
    pub data: PathBuf,
    /// An lme4 formula; give two or more (models are ordered by their number of parameters).
    #[arg(long = "formula", required = true, num_args = 1)]
    pub formulas: Vec<String>,
    /// Accepted for symmetry with `fit`: REML fits are refitted by ML for the tests, as lme4
    /// does, so the results do not change.
    #[arg(long)]
    pub reml: bool,
    /// Print the table as JSON: {models: [{formula, npar, aic, bic, loglik, deviance}],
    /// tests: [{chisq, df, p_value}]}.
    #[arg(long)]
    pub json: bool,
    /// Treat column COL as categorical (as `fit --factor`); repeatable.
    #[arg(long = "factor", value_name = "COL")]
    pub factors: Vec<String>,
    /// Contrasts of a factor (as `fit --contrasts`); repeatable.
    #[arg(long = "contrasts", value_name = "F=KIND", value_parser = parse_contrasts)]
    pub contrasts: Vec<(String, Contrasts)>,
    /// A cell text meaning "missing" besides the empty cell and NA; repeatable.
    #[arg(long = "na", value_name = "TOKEN")]
    pub na: Vec<String>,
    /// The file format (default: by extension, CSV otherwise).
    #[arg(long, value_parser = ["csv", "tsv", "parquet", "ipc", "arrow", "feather"])]
    pub format: Option<String>,
}

fn parse_contrasts(text: &str) -> Result<(String, Contrasts), String> {
    let (name, kind) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("expected F=KIND (e.g. Sex=sum), not '{text}'"))?;
    let kind = Contrasts::from_name(kind.trim())
        .ok_or_else(|| format!("unknown contrasts '{kind}': use treatment, sum or helmert"))?;
    Ok((name.trim().to_owned(), kind))
}

/// The text table, as lme4 prints `anova(m0, m1)`.
pub fn render_text(a: &Anova) -> String {
    let mut out = String::from("Models (fitted by maximum likelihood):\n");
    for (i, m) in a.models.iter().enumerate() {
        let _ = writeln!(out, "m{i}: {}", m.formula);
    }
    let mut rows = vec![[
        "",
        "npar",
        "AIC",
        "BIC",
        "logLik",
        "deviance",
        "Chisq",
        "Df",
        "Pr(>Chisq)",
    ]
    .map(str::to_owned)
    .to_vec()];
    for (i, m) in a.models.iter().enumerate() {
        let mut row = vec![
            format!("m{i}"),
            m.npar.to_string(),
            format!("{:.4}", m.aic),
            format!("{:.4}", m.bic),
            format!("{:.4}", m.loglik),
            format!("{:.4}", m.deviance),
        ];
        if i > 0 {
            let t = &a.tests[i - 1];
            row.push(format!("{:.4}", t.chisq));
            row.push(t.df.to_string());
            row.push(
                t.p_value
                    .map_or_else(|| "NA".to_owned(), |p| format!("{p:.4e}")),
            );
        }
        rows.push(row);
    }
    let ncols = 9;
    let widths: Vec<usize> = (0..ncols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(String::len)
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c == 0 {
                let _ = write!(line, "{cell:<w$}", w = widths[0]);
            } else {
                let _ = write!(line, "  {cell:>w$}", w = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Runs the anova command.
pub fn run(args: AnovaArgs) -> ExitCode {
    const COMMAND: &str = "lmm-report anova";
    let mut checked = Vec::new();
    for f in &args.formulas {
        match lmm_engine::Formula::parse(f) {
            Ok(parsed) => checked.extend(parsed.used_columns()),
            Err(e) => {
                error_line(COMMAND, &e.to_string());
                return ExitCode::from(2);
            }
        }
    }
    let read = ReadOptions {
        format: args.format.as_deref().and_then(DataFormat::from_name),
        na: args.na.clone(),
        checked_columns: Some(checked),
        text_columns: args.factors.clone(),
        ..ReadOptions::default()
    };
    let table = match super::fit::load_table(&DataSource::from_arg(&args.data), &read) {
        Ok(t) => t,
        Err(e) => {
            error_line(COMMAND, &e.to_string());
            return ExitCode::from(2);
        }
    };
    let mut options = FitOptions::default();
    options.factors = args.factors.clone();
    options.contrasts = args.contrasts.clone();
    let result = match anova(&args.formulas, &table, &options) {
        Ok(r) => r,
        Err(e) => {
            error_line(COMMAND, &e.to_string());
            return ExitCode::from(if e.is_input_error() { 2 } else { 1 });
        }
    };
    let text = if args.json {
        let mut t = serde_json::to_string_pretty(&result).unwrap_or_default();
        t.push('\n');
        t
    } else {
        render_text(&result)
    };
    match write_result(COMMAND, &text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
