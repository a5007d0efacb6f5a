//! `lmm-report workload`: write one of the seeded benchmark designs ([`crate::workloads`]) as
//! CSV.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::workloads;

#[derive(Debug, Args)]
pub struct WorkloadArgs {
    /// `insteval`: crossed design of InstEval's size and shape, for
    /// "y ~ 1 + service + (1|s) + (1|d) + (1|dept)"; `slopes`: random slopes,
    /// for "y ~ 1 + x + (1 + x|g)".
    #[arg(long, value_parser = ["insteval", "slopes"])]
    pub design: String,
    /// Rows (slopes design only).
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Groups (slopes design only).
    #[arg(long, default_value_t = 10_000)]
    pub groups: usize,
    /// Seed of the ChaCha8 generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output CSV file.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs the workload command.
pub fn run(args: WorkloadArgs) -> ExitCode {
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
            super::stdout::error_line(
                "lmm-report workload",
                &format!("could not write {}: {e}", args.out.display()),
            );
            ExitCode::from(1)
        }
    }
}
