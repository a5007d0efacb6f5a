//! In-process fit benchmarks. The model matrices are built once outside the timed region, and
//! each iteration times `LinearMixedModel::new` (the one-off cross-products) plus the whole
//! optimisation, which is what "a fit" costs once the data are in memory; one benchmark times
//! the whole `lmm_engine::fit` (formula, design and fit) from a table.
//!
//! Run with `cargo bench --bench fit`; `LMM_BENCH_LARGE=1` adds the 1,000,000-row design.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion as Bench};
use lmm_report::engine::{
    fit, Criterion, FitOptions, Formula, LinearMixedModel, ModelMatrices, Table,
};
use lmm_report::io::{self, GasolinePanel};
use lmm_report::workloads;

const GASOLINE: &str = "LCarPCap ~ 1 + Time + LIncomeP + LRPMG + (1|Country)";

fn csv_table(path: &str) -> Table {
    let df = io::read_csv(Path::new(path)).expect("data file");
    io::frame_to_table(&df, Path::new(path)).expect("table")
}

fn gasoline_table() -> Table {
    GasolinePanel::load(Path::new("data/gasoline.csv"))
        .expect("gasoline panel")
        .to_table()
}

fn matrices(table: &Table, formula: &str) -> ModelMatrices {
    ModelMatrices::build(&Formula::parse(formula).expect("formula"), table).expect("design")
}

fn fit_once(mm: &ModelMatrices, criterion: Criterion) -> f64 {
    let mut model = LinearMixedModel::new(mm).expect("model");
    model
        .fit(&FitOptions::default().with_criterion(criterion))
        .expect("fit")
        .objective
}

fn small_models(c: &mut Bench) {
    let gasoline = matrices(&gasoline_table(), GASOLINE);
    let sleep = matrices(
        &csv_table("data/sleepstudy.csv"),
        "Reaction ~ 1 + Days + (1 + Days|Subject)",
    );
    c.bench_function("gasoline ML fit", |b| {
        b.iter(|| fit_once(black_box(&gasoline), Criterion::Ml))
    });
    c.bench_function("sleepstudy (1 + Days|Subject) ML fit", |b| {
        b.iter(|| fit_once(black_box(&sleep), Criterion::Ml))
    });
    let table = gasoline_table();
    let options = FitOptions::default();
    c.bench_function("gasoline ML, formula + design + fit", |b| {
        b.iter(|| {
            fit(GASOLINE, black_box(&table), &options)
                .expect("fit")
                .objective()
        })
    });
}

fn large_models(c: &mut Bench) {
    let mut group = c.benchmark_group("large");
    group.sample_size(10);
    let insteval = matrices(&workloads::insteval_like(1), workloads::INSTEVAL_FORMULA);
    group.bench_function("InstEval-shaped crossed ML fit", |b| {
        b.iter(|| fit_once(black_box(&insteval), Criterion::Ml))
    });
    if std::env::var_os("LMM_BENCH_LARGE").is_some() {
        let slopes = matrices(
            &workloads::random_slopes(1_000_000, 10_000, 1),
            workloads::RANDOM_SLOPES_FORMULA,
        );
        group.bench_function("1M rows, 10k groups, (1 + x|g) ML fit", |b| {
            b.iter(|| fit_once(black_box(&slopes), Criterion::Ml))
        });
    }
    group.finish();
}

criterion_group!(benches, small_models, large_models);
criterion_main!(benches);
