//! `lmm-report predict`: fits a model to training data and writes predictions for new data
//! as CSV on standard output: the new data's columns plus `fit` (and `lower`, `upper` with
//! `--interval`), as lme4's `predict(m, newdata, re.form =, allow.new.levels =)` (see
//! [`lmm_engine::inference::predict`]). Exit code 2 for input errors, among them a level the
//! training data do not have without `--allow-new-levels`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use lmm_engine::inference::predict::{predict, IntervalKind, PredictOptions, RandomEffectsForm};
use lmm_engine::inference::FittedModel;
use lmm_engine::{Column, Criterion, FitOptions, Table};

use super::stdout::{error_line, note_line, write_result};
use crate::io::source::{DataSource, ReadOptions};

/// Arguments of `lmm-report predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The training data (as for `fit`).
    #[arg(long)]
    pub data: PathBuf,
    /// The lme4 formula.
    #[arg(long)]
    pub formula: String,
    /// Fit by REML instead of maximum likelihood.
    #[arg(long)]
    pub reml: bool,
    /// The new data: the columns the formula uses (the response may be absent).
    #[arg(long)]
    pub newdata: PathBuf,
    /// `none`: the fixed part only (lme4's re.form = NA); default: every random effect.
    #[arg(long = "re-form", value_name = "FORM", value_parser = ["none", "all"])]
    pub re_form: Option<String>,
    /// Predict levels the training data do not have with a zero random effect (otherwise
    /// they are an error).
    #[arg(long = "allow-new-levels")]
    pub allow_new_levels: bool,
    /// Add `lower` and `upper`: a confidence interval for the fixed part, or a prediction
    /// interval for a new observation (normal, θ treated as known).
    #[arg(long, value_parser = ["confidence", "prediction"])]
    pub interval: Option<String>,
    /// The interval's level.
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Treat column COL as categorical (as `fit --factor`); repeatable.
    #[arg(long = "factor", value_name = "COL")]
    pub factors: Vec<String>,
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn column_cell(column: &Column, row: usize) -> String {
    match column {
        Column::Numeric(v) => v[row].map_or_else(|| "NA".to_owned(), |x| format!("{x}")),
        Column::Integer(v) => v[row].map_or_else(|| "NA".to_owned(), |x| x.to_string()),
        Column::Text(v) => v[row].as_deref().map_or_else(|| "NA".to_owned(), csv_cell),
    }
}

fn load(path: &std::path::Path, factors: &[String]) -> Result<Table, String> {
    let read = ReadOptions {
        text_columns: factors.to_vec(),
        ..ReadOptions::default()
    };
    super::fit::load_table(&DataSource::from_arg(path), &read).map_err(|e| e.to_string())
}

/// Runs the predict command.
pub fn run(args: PredictArgs) -> ExitCode {
    const COMMAND: &str = "lmm-report predict";
    let fail = |message: &str, code: u8| {
        error_line(COMMAND, message);
        ExitCode::from(code)
    };
    let training = match load(&args.data, &args.factors) {
        Ok(t) => t,
        Err(e) => return fail(&e, 2),
    };
    let newdata = match load(&args.newdata, &args.factors) {
        Ok(t) => t,
        Err(e) => return fail(&e, 2),
    };
    let mut options = FitOptions::default().with_criterion(if args.reml {
        Criterion::Reml
    } else {
        Criterion::Ml
    });
    options.factors = args.factors.clone();
    let model = match FittedModel::fit(&args.formula, &training, &options) {
        Ok(m) => m,
        Err(e) => return fail(&e.to_string(), if e.is_input_error() { 2 } else { 1 }),
    };
    for note in model.fit_result().notes() {
        note_line(COMMAND, note);
    }
    let predict_options = PredictOptions {
        re_form: if args.re_form.as_deref() == Some("none") {
            RandomEffectsForm::None
        } else {
            RandomEffectsForm::All
        },
        allow_new_levels: args.allow_new_levels,
        interval: match args.interval.as_deref() {
            Some("confidence") => Some(IntervalKind::Confidence),
            Some("prediction") => Some(IntervalKind::Prediction),
            _ => None,
        },
        level: args.level,
    };
    let predictions = match predict(&model, &training, &newdata, &predict_options) {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string(), if e.is_input_error() { 2 } else { 1 }),
    };
    let mut out = String::new();
    let mut header: Vec<String> = newdata.names().iter().map(|n| csv_cell(n)).collect();
    header.push("fit".to_owned());
    if predict_options.interval.is_some() {
        header.push("lower".to_owned());
        header.push("upper".to_owned());
    }
    out.push_str(&header.join(","));
    out.push('\n');
    for (row, prediction) in predictions.iter().enumerate() {
        let mut cells: Vec<String> = newdata
            .iter()
            .map(|(_, column)| column_cell(column, row))
            .collect();
        let number = |v: Option<f64>| v.map_or_else(|| "NA".to_owned(), |x| format!("{x}"));
        cells.push(number(prediction.as_ref().map(|p| p.fit)));
        if predict_options.interval.is_some() {
            cells.push(number(prediction.as_ref().and_then(|p| p.lower)));
            cells.push(number(prediction.as_ref().and_then(|p| p.upper)));
        }
        let _ = writeln!(out, "{}", cells.join(","));
    }
    match write_result(COMMAND, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
