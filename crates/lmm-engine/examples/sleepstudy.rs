//! Fits lme4's classic random-slopes model to the sleepstudy data:
//!
//! ```text
//! cargo run --release -p lmm-engine --example sleepstudy
//! ```
//!
//! The engine takes any [`Table`]; a real program would fill it from a data-frame library (the
//! lmm-report crate converts polars frames). To keep this example free of such a dependency it
//! reads the project's three-column, all-numeric `data/sleepstudy.csv` with `str::split`.

use std::error::Error;

use lmm_engine::{fit, Column, Criterion, FitOptions, Table};

fn sleepstudy() -> Result<Table, Box<dyn Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sleepstudy.csv");
    let text = std::fs::read_to_string(path)?;
    let (mut reaction, mut days, mut subject) = (Vec::new(), Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate().skip(1) {
        let cells: Vec<&str> = line.split(',').map(|c| c.trim_matches('"')).collect();
        let [r, d, s] = cells[..] else {
            return Err(format!("{path}: line {} does not have 3 cells", i + 1).into());
        };
        reaction.push(Some(r.parse::<f64>()?));
        days.push(Some(d.parse::<i64>()?));
        subject.push(Some(s.to_owned()));
    }
    Ok(Table::new()
        .with("Reaction", Column::Numeric(reaction))
        .with("Days", Column::Integer(days))
        .with("Subject", Column::Text(subject)))
}

fn main() -> Result<(), Box<dyn Error>> {
    let table = sleepstudy()?;
    let formula = "Reaction ~ 1 + Days + (1 + Days | Subject)";
    for criterion in [Criterion::Ml, Criterion::Reml] {
        let fitted = fit(
            formula,
            &table,
            &FitOptions::default().with_criterion(criterion),
        )?;
        println!("{fitted}");
        for note in fitted.notes() {
            println!("note: {note}");
        }
        // lme4 1.1-31: deviance 1751.9393 (ML), REML criterion 1743.6283.
        let lme4 = match criterion {
            Criterion::Ml => 1751.939344,
            Criterion::Reml => 1743.628272,
        };
        assert!(
            (fitted.objective() - lme4).abs() < 1e-5,
            "{}",
            fitted.objective()
        );
    }
    Ok(())
}

#[test]
fn example_runs_and_matches_lme4() {
    main().expect("example runs");
}
