//! Data for the engine's convergence tests: lme4's sleepstudy (read from the workspace's
//! `data/`), and seeded simulations of random-slopes designs, with the option of rescaling
//! a predictor (`x → k·x`) in both its fixed and random parts.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;

use lmm_engine::{Column, Table};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// sleepstudy with `Days` multiplied by `k`.
pub fn sleepstudy(k: f64) -> Table {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sleepstudy.csv");
    let text = std::fs::read_to_string(&path).expect("data/sleepstudy.csv");
    let (mut reaction, mut days, mut subject) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        reaction.push(Some(cells[0].parse::<f64>().expect("Reaction")));
        days.push(Some(cells[1].parse::<f64>().expect("Days") * k));
        subject.push(Some(cells[2].trim_matches('"').to_string()));
    }
    Table::new()
        .with("Reaction", Column::Numeric(reaction))
        .with("Days", Column::Numeric(days))
        .with("Subject", Column::Text(subject))
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// `y ~ 1 + x1 + x2 + (1 + x1 + x2 | g)`: `groups` groups of `per_group` rows, random effects
/// with standard deviations (1, 0.5, 0.3) and correlations (0.4, −0.3, 0.2), σ = 1; `x1` is
/// multiplied by `k1` and `x2` by `k2` after simulation.
pub fn three_slopes(groups: usize, per_group: usize, seed: u64, k1: f64, k2: f64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Lower Cholesky factor of the random-effects covariance.
    let sd = [1.0, 0.5, 0.3];
    let corr = [[1.0, 0.4, -0.3], [0.4, 1.0, 0.2], [-0.3, 0.2, 1.0]];
    let mut cov = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            cov[i][j] = sd[i] * sd[j] * corr[i][j];
        }
    }
    let mut l = [[0.0; 3]; 3];
    for j in 0..3 {
        let d = cov[j][j] - (0..j).map(|c| l[j][c] * l[j][c]).sum::<f64>();
        l[j][j] = d.sqrt();
        for i in j + 1..3 {
            l[i][j] = (cov[i][j] - (0..j).map(|c| l[i][c] * l[j][c]).sum::<f64>()) / l[j][j];
        }
    }
    let (mut y, mut x1, mut x2, mut g) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for group in 0..groups {
        let z = [normal(&mut rng), normal(&mut rng), normal(&mut rng)];
        let b: Vec<f64> = (0..3)
            .map(|i| (0..=i).map(|c| l[i][c] * z[c]).sum())
            .collect();
        for _ in 0..per_group {
            let a = rng.random_range(-1.0..1.0);
            let c = rng.random_range(0.0..2.0);
            y.push(Some(
                2.0 + 0.5 * a - 0.3 * c + b[0] + b[1] * a + b[2] * c + normal(&mut rng),
            ));
            x1.push(Some(a * k1));
            x2.push(Some(c * k2));
            g.push(Some(format!("g{group}")));
        }
    }
    Table::new()
        .with("y", Column::Numeric(y))
        .with("x1", Column::Numeric(x1))
        .with("x2", Column::Numeric(x2))
        .with("g", Column::Text(g))
}

/// `y ~ 1 + x + (1 + x | subj) + (1 + x | item)`: every subject sees every item once; random
/// intercepts and slopes for both, correlated; `x` multiplied by `k` after simulation.
pub fn crossed_slopes(subjects: usize, items: usize, seed: u64, k: f64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut effects = |n: usize, sd0: f64, sd1: f64, rho: f64| -> Vec<[f64; 2]> {
        (0..n)
            .map(|_| {
                let (z0, z1) = (normal(&mut rng), normal(&mut rng));
                [sd0 * z0, sd1 * (rho * z0 + (1.0 - rho * rho).sqrt() * z1)]
            })
            .collect()
    };
    let s = effects(subjects, 0.8, 0.4, 0.3);
    let i = effects(items, 0.5, 0.3, -0.4);
    let (mut y, mut x, mut subj, mut item) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (a, se) in s.iter().enumerate() {
        for (b, ie) in i.iter().enumerate() {
            let v: f64 = rng.random_range(-1.0..1.0);
            y.push(Some(
                1.0 + 0.7 * v + se[0] + se[1] * v + ie[0] + ie[1] * v + normal(&mut rng),
            ));
            x.push(Some(v * k));
            subj.push(Some(format!("s{a}")));
            item.push(Some(format!("i{b}")));
        }
    }
    Table::new()
        .with("y", Column::Numeric(y))
        .with("x", Column::Numeric(x))
        .with("subj", Column::Text(subj))
        .with("item", Column::Text(item))
}

/// `y ~ 1 + x + (1 + x | g)` whose random effects are degenerate: `kind` 0 — no random slope
/// (its variance is 0); 1 — the slope is exactly twice the intercept (correlation +1);
/// 2 — no random intercept.
pub fn degenerate_slopes(kind: usize, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut y, mut x, mut g) = (Vec::new(), Vec::new(), Vec::new());
    for group in 0..30 {
        let b = normal(&mut rng);
        let (b0, b1) = match kind {
            0 => (b, 0.0),
            1 => (0.8 * b, 1.6 * b),
            _ => (0.0, b),
        };
        for _ in 0..12 {
            let v: f64 = rng.random_range(-1.0..1.0);
            y.push(Some(3.0 + v + b0 + b1 * v + 0.5 * normal(&mut rng)));
            x.push(Some(v));
            g.push(Some(format!("g{group}")));
        }
    }
    Table::new()
        .with("y", Column::Numeric(y))
        .with("x", Column::Numeric(x))
        .with("g", Column::Text(g))
}
