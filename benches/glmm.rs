//! In-process GLMM benchmarks through the engine's one entry point (`lmm_engine::fit` with a
//! family): formula, design, PIRLS and both optimisation stages from a table in memory.
//!
//! Run with `cargo bench --bench glmm`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion as Bench};
use lmm_report::engine::{fit, Family, FitOptions, Table};
use lmm_report::io;

const CBPP: &str = "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)";
const VERBAGG: &str = "r2 ~ Anger + Gender + btype + situ + (1|id) + (1|item)";

fn csv_table(path: &str) -> Table {
    let df = io::read_csv(Path::new(path)).expect("data file");
    io::frame_to_table(&df, Path::new(path)).expect("table")
}

fn glmm_models(c: &mut Bench) {
    let binomial = FitOptions::default().with_family(Family::from_name("binomial").unwrap());
    let cbpp = csv_table("data/r/cbpp.csv");
    c.bench_function("cbpp binomial Laplace fit", |b| {
        b.iter(|| {
            fit(CBPP, black_box(&cbpp), &binomial)
                .expect("fit")
                .loglik()
        })
    });
    let agq = binomial.clone().with_nagq(25);
    c.bench_function("cbpp binomial nAGQ = 25 fit", |b| {
        b.iter(|| fit(CBPP, black_box(&cbpp), &agq).expect("fit").loglik())
    });
    let verbagg = csv_table("data/r/VerbAgg.csv");
    let mut group = c.benchmark_group("VerbAgg");
    group.sample_size(10);
    group.bench_function("binomial Laplace fit", |b| {
        b.iter(|| {
            fit(VERBAGG, black_box(&verbagg), &binomial)
                .expect("fit")
                .loglik()
        })
    });
    let fast = binomial.clone().with_fast(true);
    group.bench_function("binomial fast (nAGQ = 0) fit", |b| {
        b.iter(|| {
            fit(VERBAGG, black_box(&verbagg), &fast)
                .expect("fit")
                .loglik()
        })
    });
    group.finish();
}

criterion_group!(benches, glmm_models);
criterion_main!(benches);
