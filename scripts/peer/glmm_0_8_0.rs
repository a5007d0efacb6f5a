//! The peer of `scripts/bench-glmm-peer.sh`: the Rust crate glmm 0.8.0 fitting VerbAgg's
//! binomial Laplace model (`r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)`) from the
//! CSV given as the first argument, timed as a whole process by the script; it prints its
//! log-likelihood, β and its own in-process fit time. Not part of the workspace: the script
//! copies it into a scratch crate.
use glmm::formula::{fit, Column, Table};
use glmm::{BinomialLink, Family, FitOptions};

fn unquote(s: &str) -> String {
    s.trim().trim_matches('"').to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).cloned().unwrap_or("data/r/VerbAgg.csv".into());
    let nagq: u8 = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(1);
    let t0 = std::time::Instant::now();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(unquote).collect();
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(unquote).collect()).collect();
    let n = rows.len();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let text_col = |name: &str| -> Vec<String> { rows.iter().map(|r| r[col(name)].clone()).collect() };
    let num_col = |name: &str| -> Vec<f64> { rows.iter().map(|r| r[col(name)].parse().unwrap()).collect() };
    let y: Vec<f64> = text_col("r2").iter().map(|s| if s == "Y" { 1.0 } else { 0.0 }).collect();
    let table = Table {
        columns: vec![
            ("r2".into(), Column::Numeric(y)),
            ("Anger".into(), Column::Numeric(num_col("Anger"))),
            ("Gender".into(), Column::factor_from_labels(&text_col("Gender"))),
            ("btype".into(), Column::factor_from_labels(&text_col("btype"))),
            ("situ".into(), Column::factor_from_labels(&text_col("situ"))),
            ("id".into(), Column::factor_from_labels(&text_col("id"))),
            ("item".into(), Column::factor_from_labels(&text_col("item"))),
        ],
        n,
    };
    let mut opts = FitOptions::default();
    opts.nagq = nagq;
    let t1 = std::time::Instant::now();
    let f = fit(
        "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)",
        &table,
        Family::Binomial { link: BinomialLink::Logit },
        &opts,
    )
    .unwrap();
    let t2 = std::time::Instant::now();
    println!(
        "loglik {:.6} beta {:?} converged {} fit {:?} total {:?}",
        f.fit().loglik(),
        f.fit().beta(),
        f.fit().converged(),
        t2 - t1,
        t2 - t0
    );
}
