//! Command-line entry point; all work is done by the `lmm_report` library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use lmm_report::output;
use lmm_report::report::{self, ReportConfig};

/// Regenerates the reproduction report (Markdown, HTML, SVG figures, results.json).
#[derive(Debug, Parser)]
#[command(name = "lmm-report", version, about)]
struct Cli {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = ReportConfig {
        data: cli.data,
        reference_dir: cli.reference,
        templates: cli.templates,
    };
    let rendered = match report::render(&config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lmm-report: error: {e}");
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    if cli.check {
        let drift = output::check(&cli.out, &rendered.files);
        if drift.is_empty() {
            println!(
                "{}: {} files up to date",
                cli.out.display(),
                rendered.files.len()
            );
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "lmm-report: {} is out of date; regenerate with `cargo run --release`:",
            cli.out.display()
        );
        for d in drift {
            eprintln!("  {d}");
        }
        return ExitCode::from(1);
    }
    match output::write_atomic(&cli.out, &rendered.files) {
        Ok(()) => {
            println!(
                "wrote {} files to {}",
                rendered.files.len(),
                cli.out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lmm-report: error: {e}");
            ExitCode::from(1)
        }
    }
}
