//! Command-line entry point; all work is done by the `lmm_report` library.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use lmm_report::cli::fit::{self as fit_command, FitRequest};
use lmm_report::engine::{Criterion, OptimizerChoice};
use lmm_report::io::output;
use lmm_report::report::{self, ReportConfig};
use lmm_report::workloads;

/// Regenerates the reproduction report (Markdown, HTML, SVG figures, results.json), or fits a
/// linear mixed model to any CSV file with `lmm-report fit`.
#[derive(Debug, Parser)]
#[command(
    name = "lmm-report",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// The gasoline panel CSV.
    #[arg(long, default_value = "data/gasoline.csv")]
    data: PathBuf,
    /// Output directory.
    #[arg(long, default_value = "output")]
    out: PathBuf,
    /// Directory holding the recorded reference fits.
    #[arg(long, default_value = "data/reference")]
    reference: PathBuf,
    /// Directory holding report.md.j2 and report.html.j2.
    #[arg(long, default_value = "templates")]
    templates: PathBuf,
    /// Render in memory and compare with the files in --out; exit 1 if any differ.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fit a linear mixed model given by an lme4 formula to a CSV file.
    Fit(FitArgs),
    /// Write a seeded synthetic data set (the benchmark workloads) as CSV.
    Simulate(SimulateArgs),
}

#[derive(Debug, Args)]
struct SimulateArgs {
    /// `insteval`: crossed design of InstEval's size and shape, for
    /// "y ~ 1 + service + (1|s) + (1|d) + (1|dept)"; `slopes`: random slopes,
    /// for "y ~ 1 + x + (1 + x|g)".
    #[arg(long, value_parser = ["insteval", "slopes"])]
    design: String,
    /// Rows (slopes design only).
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Groups (slopes design only).
    #[arg(long, default_value_t = 10_000)]
    groups: usize,
    /// Seed of the ChaCha8 generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output CSV file.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
struct FitArgs {
    /// CSV file with a header row; empty cells and NA are missing values.
    #[arg(long)]
    data: PathBuf,
    /// lme4 formula, e.g. "Reaction ~ 1 + Days + (1 + Days | Subject)".
    #[arg(long)]
    formula: String,
    /// Fit by REML instead of maximum likelihood.
    #[arg(long)]
    reml: bool,
    /// Print the fit as JSON instead of a text summary.
    #[arg(long)]
    json: bool,
    /// `auto`: exact-gradient projected BFGS for models with one random-effects term, BOBYQA
    /// otherwise; `bobyqa`: derivative-free BOBYQA for every model (lme4's default optimiser).
    #[arg(long, default_value = "auto", value_parser = ["auto", "bobyqa"])]
    optimizer: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Fit(args)) => run_fit(args),
        Some(Command::Simulate(args)) => run_simulate(args),
        None => run_report(cli.report),
    }
}

fn run_report(args: ReportArgs) -> ExitCode {
    let config = ReportConfig {
        data: args.data,
        reference_dir: args.reference,
        templates: args.templates,
    };
    let rendered = match report::render(&config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lmm-report: error: {e}");
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    if args.check {
        let drift = output::check(&args.out, &rendered.files);
        if drift.is_empty() {
            println!(
                "{}: {} files up to date",
                args.out.display(),
                rendered.files.len()
            );
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "lmm-report: {} is out of date; regenerate with `cargo run --release`:",
            args.out.display()
        );
        for d in drift {
            eprintln!("  {d}");
        }
        return ExitCode::from(1);
    }
    match output::write_atomic(&args.out, &rendered.files) {
        Ok(()) => {
            println!(
                "wrote {} files to {}",
                rendered.files.len(),
                args.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lmm-report: error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Progress on stderr for fits that take longer than a moment, only on a terminal.
struct Progress {
    enabled: bool,
    start: Instant,
    last: Option<Instant>,
}

impl Progress {
    const DELAY: Duration = Duration::from_millis(500);
    const INTERVAL: Duration = Duration::from_millis(100);

    fn new() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
            start: Instant::now(),
            last: None,
        }
    }

    fn update(&mut self, evaluations: usize, objective: f64) {
        if !self.enabled || self.start.elapsed() < Self::DELAY {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|t| now - t < Self::INTERVAL) {
            return;
        }
        self.last = Some(now);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\rfitting: {evaluations} evaluations, objective {objective:.6}   "
        );
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.last.is_some() {
            eprint!("\r{:60}\r", "");
        }
    }
}

fn run_fit(args: FitArgs) -> ExitCode {
    let request = FitRequest {
        data: args.data,
        formula: args.formula,
        criterion: if args.reml {
            Criterion::Reml
        } else {
            Criterion::Ml
        },
        optimizer: if args.optimizer == "bobyqa" {
            OptimizerChoice::Bobyqa
        } else {
            OptimizerChoice::Auto
        },
    };
    let mut progress = Progress::new();
    let outcome = fit_command::fit_csv(&request, |e, f| progress.update(e, f));
    progress.finish();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("lmm-report fit: error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    for note in outcome.notes() {
        eprintln!("lmm-report fit: note: {note}");
    }
    if args.json {
        println!("{}", outcome.to_json().to_string_pretty());
    } else {
        print!("{outcome}");
    }
    ExitCode::SUCCESS
}

fn run_simulate(args: SimulateArgs) -> ExitCode {
    let table = match args.design.as_str() {
        "insteval" => workloads::insteval_like(args.seed),
        _ => workloads::random_slopes(args.rows, args.groups, args.seed),
    };
    let written = std::fs::File::create(&args.out)
        .map(std::io::BufWriter::new)
        .and_then(|mut w| {
            workloads::write_csv(&table, &mut w)?;
            w.flush()
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lmm-report simulate: error: {}: {e}", args.out.display());
            ExitCode::from(1)
        }
    }
}
