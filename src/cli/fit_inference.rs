//! What `lmm-report fit` adds after the fit (issue 11): `--ddf` (denominator degrees of
//! freedom of the fixed-effects tests), `--ranef`, `--fitted`, `--confint wald|profile|bootstrap`
//! with `--level`, and the parametric bootstrap's `--nsim`, `--seed`, `--replicates FILE`.
//! Owns the arguments, the bootstrap's progress bar and the replicates CSV, and how the
//! results join the text summary and the JSON; the numbers are the engine's
//! ([`lmm_engine::inference`]).

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Args;

use lmm_engine::inference::bootstrap::{BootstrapOptions, Replicate};
use lmm_engine::inference::confint::{ConfintMethod, ConfintRow};
use lmm_engine::inference::{ranef, Ddf, FittedModel, InferenceError};
use lmm_engine::{Criterion, FitSummary};

use super::fit::{FitCommandError, FitRequest};

/// The post-fit options of `lmm-report fit`.
#[derive(Debug, Clone, Args)]
pub struct InferenceArgs {
    /// Denominator degrees of freedom of the fixed-effects t tests: satterthwaite (lmerTest),
    /// kenward-roger (pbkrtest; REML fits), or none (z tests). Default: satterthwaite for
    /// REML fits, none for ML fits.
    #[arg(long, value_name = "METHOD", value_parser = ["satterthwaite", "kenward-roger", "none"])]
    pub ddf: Option<String>,
    /// Add the random effects (conditional modes and conditional SDs, lme4's
    /// ranef(condVar = TRUE)) to the output.
    #[arg(long)]
    pub ranef: bool,
    /// Add the fitted values and residuals of the rows used to the output.
    #[arg(long)]
    pub fitted: bool,
    /// Confidence intervals of every parameter: wald, profile or bootstrap (parametric,
    /// percentile; see --nsim, --seed).
    #[arg(long, value_name = "METHOD", value_parser = ["wald", "profile", "bootstrap"])]
    pub confint: Option<String>,
    /// Confidence level of --confint.
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Parametric-bootstrap replicates (for --confint bootstrap and --replicates).
    #[arg(long, default_value_t = 1000)]
    pub nsim: usize,
    /// Seed of the parametric bootstrap (results are identical for any number of threads).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write every bootstrap replicate's objective, σ, θ and β as CSV to FILE (runs the
    /// bootstrap).
    #[arg(long, value_name = "FILE")]
    pub replicates: Option<PathBuf>,
}

impl InferenceArgs {
    /// The denominator-df method: as asked, or Satterthwaite for REML and none for ML.
    pub fn ddf(&self, criterion: Criterion) -> Ddf {
        match self.ddf.as_deref().and_then(Ddf::from_name) {
            Some(d) => d,
            None if criterion == Criterion::Reml => Ddf::Satterthwaite,
            None => Ddf::None,
        }
    }

    fn confint_method(&self) -> Option<ConfintMethod> {
        self.confint.as_deref().and_then(ConfintMethod::from_name)
    }

    /// The post-fit options given on the command line (those without a default value).
    pub fn requested(&self) -> Vec<&'static str> {
        [
            (self.ddf.is_some(), "--ddf"),
            (self.ranef, "--ranef"),
            (self.fitted, "--fitted"),
            (self.confint.is_some(), "--confint"),
            (self.replicates.is_some(), "--replicates"),
        ]
        .into_iter()
        .filter_map(|(given, name)| given.then_some(name))
        .collect()
    }

    fn wants_bootstrap(&self) -> bool {
        self.confint_method() == Some(ConfintMethod::Bootstrap) || self.replicates.is_some()
    }
}

/// Reads the data and fits, keeping what inference needs (as [`super::fit::fit_data`]).
pub fn fit_model(
    request: &FitRequest,
    progress: impl FnMut(usize, f64),
) -> Result<FittedModel, FitCommandError> {
    let table = super::fit::load_request_table(request)?;
    Ok(FittedModel::fit_with_progress(
        &request.formula,
        &table,
        &request.options,
        progress,
    )?)
}

/// A failure after the fit, with its exit code (2 for the user's input).
#[derive(Debug)]
pub struct InferenceFailure {
    /// The message.
    pub message: String,
    /// The exit code.
    pub code: u8,
}

impl From<InferenceError> for InferenceFailure {
    fn from(e: InferenceError) -> Self {
        let code = if e.is_input_error() { 2 } else { 1 };
        Self {
            message: e.to_string(),
            code,
        }
    }
}

/// A progress bar for the bootstrap on stderr: only on a terminal, at most ten updates a
/// second; callable from any thread.
struct BootstrapProgress {
    total: usize,
    enabled: bool,
    last: Mutex<Option<Instant>>,
}

impl BootstrapProgress {
    fn new(total: usize) -> Self {
        Self {
            total,
            enabled: std::io::stderr().is_terminal(),
            last: Mutex::new(None),
        }
    }

    fn update(&self, done: usize) {
        if !self.enabled {
            return;
        }
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        let now = Instant::now();
        if done < self.total && last.is_some_and(|t| now - t < Duration::from_millis(100)) {
            return;
        }
        *last = Some(now);
        let width = 40;
        let filled = done * width / self.total.max(1);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\rbootstrap [{}{}] {done}/{}",
            "#".repeat(filled),
            " ".repeat(width - filled),
            self.total
        );
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.enabled {
            eprint!("\r{:70}\r", "");
        }
    }
}

/// The replicates as CSV: `replicate,objective,sigma,<θ names>,<β names>,converged`.
pub fn replicates_csv(model: &FittedModel, replicates: &[Replicate]) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut header = vec![
        "replicate".to_owned(),
        "objective".to_owned(),
        "sigma".to_owned(),
    ];
    header.extend(model.theta_names().iter().map(|n| quote(n)));
    header.extend(
        model
            .fit_result()
            .coefficients()
            .iter()
            .map(|c| quote(&c.name)),
    );
    header.push("converged".to_owned());
    let mut out = header.join(",");
    out.push('\n');
    for r in replicates {
        let _ = write!(out, "{},{},{}", r.index + 1, r.objective, r.sigma);
        for v in r.theta.iter().chain(&r.beta) {
            let _ = write!(out, ",{v}");
        }
        let _ = writeln!(out, ",{}", r.converged);
    }
    out
}

/// Formats an optional bound for the text tables.
fn bound(v: Option<f64>) -> String {
    v.map_or_else(|| "NA".to_owned(), |x| format!("{x:.6}"))
}

/// Runs the requested inference on `model` and renders the command's output (the JSON or
/// the text summary with the extra tables).
pub fn render(
    model: &mut FittedModel,
    args: &InferenceArgs,
    json: bool,
) -> Result<String, InferenceFailure> {
    let criterion = model.fit_result().criterion();
    let mut ddf = args.ddf(criterion);
    let tests = match model.coefficient_tests(ddf) {
        Ok(t) => t,
        // The default (Satterthwaite for REML) falls back to z tests with a note rather than
        // failing a fit the user did not ask df for.
        Err(e) if args.ddf.is_none() => {
            super::stdout::note_line(
                "lmm-report fit",
                &format!("{} df unavailable ({e}); z tests shown", ddf.label()),
            );
            ddf = Ddf::None;
            model.coefficient_tests(Ddf::None)?
        }
        Err(e) => return Err(e.into()),
    };
    let replicates = if args.wants_bootstrap() {
        let bar = BootstrapProgress::new(args.nsim);
        let reps = model.bootstrap(
            BootstrapOptions {
                nsim: args.nsim,
                seed: args.seed,
            },
            &|done| bar.update(done),
        );
        bar.finish();
        let reps = reps?;
        if let Some(path) = &args.replicates {
            // Replaced atomically: a failed or killed run leaves the previous file.
            crate::io::output::write_file(path, replicates_csv(model, &reps).as_bytes()).map_err(
                |e| InferenceFailure {
                    message: format!("could not write the replicates: {e}"),
                    code: e.exit_code(),
                },
            )?;
        }
        Some(reps)
    } else {
        None
    };
    let confint: Option<(ConfintMethod, Vec<ConfintRow>)> = match args.confint_method() {
        Some(method) => Some((
            method,
            model.confint(method, args.level, replicates.as_deref())?,
        )),
        None => None,
    };
    let fit = model.fit_result();
    let ranef_rows = args.ranef.then(|| ranef::ranef(fit));
    let fitted_values = args.fitted.then(|| model.fitted_values());

    if json {
        let mut out = fit.to_json().with_tests(ddf, &tests);
        out.ranef = ranef_rows;
        if let Some(fv) = fitted_values {
            out.fitted = Some(fv.fitted);
            out.residuals = Some(fv.residuals);
        }
        if let Some((method, rows)) = confint {
            out.confint = Some(rows);
            out.confint_method = Some(method.label().to_owned());
            out.confint_level = Some(args.level);
        }
        let mut text = out.to_string_pretty();
        text.push('\n');
        return Ok(text);
    }

    let summary = FitSummary {
        tests: (ddf != Ddf::None).then_some(tests.as_slice()),
        ..fit.summary()
    };
    let mut text = summary.to_string();
    if ddf != Ddf::None {
        let _ = writeln!(
            text,
            " t tests with {} denominator degrees of freedom",
            ddf.label()
        );
    }
    if let Some(rows) = ranef_rows {
        let _ = writeln!(text, "\nRandom effects (conditional modes and SDs):");
        let mut table = vec![["group", "level", "term", "mode", "cond. SD"]
            .map(str::to_owned)
            .to_vec()];
        for r in rows {
            table.push(vec![
                r.group,
                r.level,
                r.term,
                format!("{:.6}", r.mode),
                format!("{:.6}", r.cond_sd),
            ]);
        }
        push_table(&mut text, &table, 3);
    }
    if let Some(fv) = fitted_values {
        let _ = writeln!(text, "\nFitted values and residuals (rows used):");
        let mut table = vec![["row", "fitted", "residual"].map(str::to_owned).to_vec()];
        for (i, (f, r)) in fv.fitted.iter().zip(&fv.residuals).enumerate() {
            table.push(vec![
                (i + 1).to_string(),
                format!("{f:.6}"),
                format!("{r:.6}"),
            ]);
        }
        push_table(&mut text, &table, 0);
    }
    if let Some((method, rows)) = confint {
        let _ = writeln!(
            text,
            "\nConfidence intervals ({}, level {}):",
            method.label(),
            args.level
        );
        let lo = format!("{:.1} %", 50.0 * (1.0 - args.level));
        let hi = format!("{:.1} %", 50.0 * (1.0 + args.level));
        let mut table = vec![vec![String::new(), lo, hi]];
        for r in rows {
            table.push(vec![r.parameter, bound(r.lower), bound(r.upper)]);
        }
        push_table(&mut text, &table, 1);
    }
    Ok(text)
}

/// Appends rows as an aligned table (the summary's layout); the first `left` columns are
/// left-aligned.
fn push_table(out: &mut String, rows: &[Vec<String>], left: usize) {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let left: Vec<bool> = (0..ncols).map(|c| c < left).collect();
    out.push_str(&lmm_engine::aligned_table(rows, &left, "  "));
}
