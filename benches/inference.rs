//! In-process benchmarks of the post-fit steps (issue 11) on sleepstudy's random-slopes REML
//! fit: Satterthwaite and Kenward–Roger df, profile intervals, and 1,000 parametric-bootstrap
//! replicates (rayon, all cores). The fit itself is done once outside the timed region; the
//! whole-process figures, with lme4's and lmerTest's for comparison, come from
//! `scripts/bench_inference.sh --with-r`.
//!
//! Run with `cargo bench --bench inference`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion as Bench};
use lmm_report::engine::inference::bootstrap::BootstrapOptions;
use lmm_report::engine::inference::confint::ConfintMethod;
use lmm_report::engine::inference::{Ddf, FittedModel};
use lmm_report::engine::{Criterion, FitOptions};
use lmm_report::io;

fn sleepstudy() -> FittedModel {
    let path = Path::new("data/sleepstudy.csv");
    let df = io::read_csv(path).expect("data file");
    let table = io::frame_to_table(&df, path).expect("table");
    FittedModel::fit(
        "Reaction ~ 1 + Days + (1 + Days | Subject)",
        &table,
        &FitOptions::default().with_criterion(Criterion::Reml),
    )
    .expect("fit")
}

fn post_fit(c: &mut Bench) {
    let mut model = sleepstudy();
    c.bench_function("sleepstudy Satterthwaite df", |b| {
        b.iter(|| black_box(model.coefficient_tests(Ddf::Satterthwaite).expect("df")))
    });
    c.bench_function("sleepstudy Kenward-Roger df", |b| {
        b.iter(|| black_box(model.coefficient_tests(Ddf::KenwardRoger).expect("df")))
    });
    c.bench_function("sleepstudy profile intervals", |b| {
        b.iter(|| {
            black_box(
                model
                    .confint(ConfintMethod::Profile, 0.95, None)
                    .expect("ci"),
            )
        })
    });
    let mut group = c.benchmark_group("bootstrap");
    group.sample_size(10);
    group.bench_function("sleepstudy 1000 replicates", |b| {
        b.iter(|| {
            black_box(
                model
                    .bootstrap(
                        BootstrapOptions {
                            nsim: 1000,
                            seed: 1,
                        },
                        &|_| {},
                    )
                    .expect("bootstrap"),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, post_fit);
criterion_main!(benches);
