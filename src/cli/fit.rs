//! `lmm-report fit`: a data file and an lme4 formula to a fitted model, through the engine's
//! one entry point [`lmm_engine::fit`]. Owns what the command adds to it: reading the data
//! ([`crate::io`]: CSV/TSV with the delimiter detected, Parquet, Arrow IPC, standard input),
//! the design options (`--factor`, `--contrasts`, `--weights`), the GLMM options
//! (`--family`, `--link`, `--nagq`, `--fast`), and the exit code of each failure.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use lmm_engine::{Contrasts, Criterion, Family, Fit, FitOptions, Link, OptimizerChoice, Table};

use super::progress::Progress;
use super::stdout::{error_line, note_line, write_result};
use crate::io::source::{parse_separator, DataFormat, DataSource, ReadOptions};
use crate::io::{self, DataError};

/// What to fit.
#[derive(Debug, Clone)]
pub struct FitRequest {
    /// The data: a file or standard input.
    pub data: DataSource,
    /// How to read it.
    pub read: ReadOptions,
    /// The lme4 formula.
    pub formula: String,
    /// Criterion, optimiser, declared factors, contrasts, weights.
    pub options: FitOptions,
}

/// Why a fit could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum FitCommandError {
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The engine failed (formula, design or model).
    #[error(transparent)]
    Engine(#[from] lmm_engine::Error),
}

impl FitCommandError {
    /// 2 for anything the user's data or formula caused, 1 for a failure of the fit itself.
    pub fn exit_code(&self) -> u8 {
        match self {
            FitCommandError::Data(_) => 2,
            FitCommandError::Engine(e) if e.is_input_error() => 2,
            FitCommandError::Engine(_) => 1,
        }
    }
}

/// Reads `source` into a table.
pub fn load_table(source: &DataSource, read: &ReadOptions) -> Result<Table, DataError> {
    io::read_table(source, read)
}

/// Parses the request's formula and reads its data. The formula is parsed before the data
/// are read, so that a typo is reported at once (and with its position) even for a large
/// file; its columns are the ones whose stray text cells are errors.
pub fn load_request_table(request: &FitRequest) -> Result<Table, FitCommandError> {
    let formula = lmm_engine::Formula::parse(&request.formula).map_err(lmm_engine::Error::from)?;
    let mut read = request.read.clone();
    let mut checked = formula.used_columns();
    checked.extend(request.options.weights.iter().cloned());
    read.checked_columns = Some(checked);
    read.text_columns = request.options.factors.clone();
    Ok(load_table(&request.data, &read)?)
}

/// Runs the whole pipeline; `progress(evaluations, objective)` is called during the fit.
pub fn fit_data(
    request: &FitRequest,
    progress: impl FnMut(usize, f64),
) -> Result<Fit, FitCommandError> {
    let table = load_request_table(request)?;
    Ok(lmm_engine::fit_with_progress(
        &request.formula,
        &table,
        &request.options,
        progress,
    )?)
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// The data: a CSV file with a header row (comma, semicolon or tab, detected), a .tsv,
    /// .parquet or .arrow/.ipc/.feather file, or `-` for CSV on standard input. Empty cells
    /// and NA are missing values.
    #[arg(long)]
    pub data: PathBuf,
    /// lme4 formula, e.g. "Reaction ~ 1 + Days + (1 + Days | Subject)".
    #[arg(long)]
    pub formula: String,
    /// Fit by REML instead of maximum likelihood.
    #[arg(long)]
    pub reml: bool,
    /// Print the fit as JSON instead of a text summary.
    #[arg(long)]
    pub json: bool,
    /// `auto`: exact-gradient projected BFGS for models with one random-effects term, BOBYQA
    /// otherwise; `bobyqa`: derivative-free BOBYQA for every model (lme4's default optimiser).
    #[arg(long, default_value = "auto", value_parser = ["auto", "bobyqa"])]
    pub optimizer: String,
    /// Treat column COL as categorical wherever the formula names it (as factor(COL) would);
    /// repeatable.
    #[arg(long = "factor", value_name = "COL")]
    pub factors: Vec<String>,
    /// Code factor F by contrasts KIND: treatment (the default), sum (R's contr.sum) or
    /// helmert (contr.helmert); F is the factor as the formula names it (Sex, factor(Diet))
    /// or the column inside factor(); repeatable.
    #[arg(long = "contrasts", value_name = "F=KIND", value_parser = parse_contrasts)]
    pub contrasts: Vec<(String, Contrasts)>,
    /// Column of prior weights (lme4's weights=): observation i has residual variance σ²/wᵢ;
    /// every weight must be a positive number.
    #[arg(long, value_name = "COL")]
    pub weights: Option<String>,
    /// A cell text that means "missing", besides the empty cell and NA (R's na.strings);
    /// repeatable.
    #[arg(long = "na", value_name = "TOKEN")]
    pub na: Vec<String>,
    /// The delimiter of a text file: one character, or tab, comma, semicolon (default:
    /// detected from the header line; tab for .tsv).
    #[arg(long, value_name = "SEP", value_parser = parse_sep)]
    pub sep: Option<u8>,
    /// The file format (default: by extension, CSV otherwise).
    #[arg(long, value_parser = ["csv", "tsv", "parquet", "ipc", "arrow", "feather"])]
    pub format: Option<String>,
    /// Post-fit inference: --ddf, --ranef, --fitted, --confint, --level, --nsim, --seed,
    /// --replicates.
    #[command(flatten)]
    pub inference: super::fit_inference::InferenceArgs,
    /// The response distribution: gaussian (a linear mixed model, the default), or binomial,
    /// poisson, negative.binomial or Gamma for a generalised linear mixed model (lme4's
    /// glmer; negative.binomial estimates its θ as glmer.nb does, unless --nb-theta gives it).
    #[arg(
        long,
        default_value = "gaussian",
        value_parser = ["gaussian", "binomial", "poisson", "negative.binomial", "Gamma"]
    )]
    pub family: String,
    /// negative.binomial: its shape θ (variance μ + μ²/θ), fixed instead of estimated
    /// (glmer with MASS's negative.binomial(theta)).
    #[arg(long, value_name = "THETA", allow_negative_numbers = true)]
    pub nb_theta: Option<f64>,
    /// The link of a GLMM: logit (binomial's default), probit or cloglog; log (poisson's and
    /// negative.binomial's); inverse (Gamma's default), log or identity for Gamma.
    #[arg(long, value_parser = ["logit", "probit", "cloglog", "log", "identity", "inverse"])]
    pub link: Option<String>,
    /// GLMMs: adaptive Gauss-Hermite quadrature points, 1 (Laplace, the default) to 25; more
    /// than 1 only with a single scalar random-effects term (lme4's nAGQ).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(0..=25))]
    pub nagq: u8,
    /// GLMMs: lme4's nAGQ = 0 — β estimated inside PIRLS, only θ optimised (faster, a
    /// slightly different optimum).
    #[arg(long)]
    pub fast: bool,
}

impl FitArgs {
    /// The family and link the arguments ask for, or why they do not go together.
    pub fn family(&self) -> Result<Family, String> {
        let mut family = Family::from_name(&self.family)
            .ok_or_else(|| format!("unknown family '{}'", self.family))?;
        if let Some(theta) = self.nb_theta {
            family = family.with_shape(theta).ok_or_else(|| {
                if family.name() == "negative.binomial" {
                    format!("--nb-theta {theta}: θ must be positive and finite")
                } else {
                    format!(
                        "--nb-theta is for --family negative.binomial, not {}",
                        self.family
                    )
                }
            })?;
        }
        match self.link.as_deref() {
            None => Ok(family),
            Some(name) => Link::from_name(name)
                .and_then(|link| family.with_link(link))
                .ok_or_else(|| {
                    format!(
                        "the {} family has no {name} link (binomial: logit, probit, cloglog; \
                         poisson: log)",
                        family.name()
                    )
                }),
        }
    }
}

fn parse_contrasts(text: &str) -> Result<(String, Contrasts), String> {
    let (name, kind) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("expected F=KIND (e.g. Sex=sum), not '{text}'"))?;
    let kind = Contrasts::from_name(kind.trim())
        .ok_or_else(|| format!("unknown contrasts '{kind}': use treatment, sum or helmert"))?;
    if name.trim().is_empty() {
        return Err(format!("expected F=KIND (e.g. Sex=sum), not '{text}'"));
    }
    Ok((name.trim().to_owned(), kind))
}

fn parse_sep(text: &str) -> Result<u8, String> {
    parse_separator(text).ok_or_else(|| {
        format!("a separator is one character (or tab, comma, semicolon), not '{text}'")
    })
}

impl FitArgs {
    /// The request these arguments describe.
    pub fn request(&self) -> FitRequest {
        let mut options = FitOptions::default()
            .with_criterion(if self.reml {
                Criterion::Reml
            } else {
                Criterion::Ml
            })
            .with_optimizer(if self.optimizer == "bobyqa" {
                OptimizerChoice::Bobyqa
            } else {
                OptimizerChoice::Auto
            });
        let nagq = usize::from(self.nagq);
        options = options
            .with_family(self.family().unwrap_or_default())
            .with_nagq(nagq.max(1))
            .with_fast(self.fast || nagq == 0);
        options.factors = self.factors.clone();
        options.contrasts = self.contrasts.clone();
        options.weights = self.weights.clone();
        FitRequest {
            data: DataSource::from_arg(&self.data),
            read: ReadOptions {
                format: self.format.as_deref().and_then(DataFormat::from_name),
                separator: self.sep,
                na: self.na.clone(),
                ..ReadOptions::default()
            },
            formula: self.formula.clone(),
            options,
        }
    }
}

/// Runs the fit command.
pub fn run(args: FitArgs) -> ExitCode {
    const COMMAND: &str = "lmm-report fit";
    let json = args.json;
    if let Err(message) = args.family() {
        error_line(COMMAND, &message);
        return ExitCode::from(2);
    }
    let request = args.request();
    if request.options.family.is_glmm() {
        return run_glmm(&request, &args);
    }
    let mut progress = Progress::new();
    let outcome = super::fit_inference::fit_model(&request, |e, f| progress.update(e, f));
    progress.finish();
    let mut outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            error_line(COMMAND, &e.to_string());
            return ExitCode::from(e.exit_code());
        }
    };
    for note in outcome.fit_result().notes() {
        note_line(COMMAND, note);
    }
    let text = match super::fit_inference::render(&mut outcome, &args.inference, json) {
        Ok(text) => text,
        Err(e) => {
            error_line(COMMAND, &e.message);
            return ExitCode::from(e.code);
        }
    };
    match write_result(COMMAND, &text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}

/// The fit command for a GLMM: the fit, its notes and its summary or JSON. The post-fit
/// options are for linear mixed models; asking for one with a GLMM family is a usage error.
fn run_glmm(request: &FitRequest, args: &FitArgs) -> ExitCode {
    const COMMAND: &str = "lmm-report fit";
    let asked = args.inference.requested();
    if !asked.is_empty() {
        error_line(
            COMMAND,
            &format!(
                "{} {} for linear mixed models only, not with --family {}",
                asked.join(", "),
                if asked.len() == 1 { "is" } else { "are" },
                args.family
            ),
        );
        return ExitCode::from(2);
    }
    let mut progress = Progress::new();
    let outcome = fit_data(request, |e, f| progress.update(e, f));
    progress.finish();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            error_line(COMMAND, &e.to_string());
            return ExitCode::from(e.exit_code());
        }
    };
    for note in outcome.notes() {
        note_line(COMMAND, note);
    }
    let text = if args.json {
        let mut text = outcome.to_json().to_string_pretty();
        text.push('\n');
        text
    } else {
        outcome.to_string()
    };
    match write_result(COMMAND, &text) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
