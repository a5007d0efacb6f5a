//! Test fixtures: the gasoline and sleepstudy data embedded at compile time, turned into
//! model matrices by hand (the formula layer is tested elsewhere).

use faer::Mat;

use crate::design::{ModelMatrices, RandomEffectsTerm};

const GASOLINE: &str = include_str!("../../data/gasoline.csv");
const SLEEPSTUDY: &str = include_str!("../../data/sleepstudy.csv");

/// Header and rows of a simple CSV (no embedded commas), quotes stripped.
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let split = |l: &str| -> Vec<String> {
        l.split(',')
            .map(|c| c.trim().trim_matches('"').to_string())
            .collect()
    };
    let header = lines.next().map(split).unwrap_or_default();
    (header, lines.map(split).collect())
}

fn column<'a>(header: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let c = header
        .iter()
        .position(|h| h == name)
        .expect("column present");
    rows.iter().map(|r| r[c].as_str()).collect()
}

fn numbers(values: &[&str]) -> Vec<f64> {
    values.iter().map(|v| v.parse().expect("number")).collect()
}

/// Levels sorted (numerically when every label is a number) and the level index per row.
fn factor(values: &[&str]) -> (Vec<String>, Vec<u32>) {
    let mut levels: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    levels.sort();
    levels.dedup();
    if levels.iter().all(|l| l.parse::<f64>().is_ok()) {
        levels.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap()
                .total_cmp(&b.parse::<f64>().unwrap())
        });
    }
    let refs = values
        .iter()
        .map(|v| levels.iter().position(|l| l == v).unwrap() as u32)
        .collect();
    (levels, refs)
}

/// `LCarPCap ~ 1 + Time + LIncomeP + LRPMG + (1|Country)`, `Time = Year − 1965`.
pub fn gasoline() -> ModelMatrices {
    let (h, rows) = parse_csv(GASOLINE);
    let n = rows.len();
    let year = numbers(&column(&h, &rows, "Year"));
    let income = numbers(&column(&h, &rows, "LIncomeP"));
    let price = numbers(&column(&h, &rows, "LRPMG"));
    let y = numbers(&column(&h, &rows, "LCarPCap"));
    let (levels, refs) = factor(&column(&h, &rows, "Country"));
    ModelMatrices {
        response: "LCarPCap".into(),
        y,
        x: Mat::from_fn(n, 4, |i, j| match j {
            0 => 1.0,
            1 => year[i] - 1965.0,
            2 => income[i],
            _ => price[i],
        }),
        fixed_names: vec![
            "(Intercept)".into(),
            "Time".into(),
            "LIncomeP".into(),
            "LRPMG".into(),
        ],
        dropped_fixed: vec![],
        terms: vec![RandomEffectsTerm {
            group: "Country".into(),
            columns: vec!["(Intercept)".into()],
            levels,
            refs,
            z: vec![1.0; n],
        }],
        rows_dropped: 0,
    }
}

/// `Reaction ~ 1 + Days + (1 + Days|Subject)`; with `uncorrelated`, `(1|Subject) +
/// (0 + Days|Subject)` instead.
pub fn sleepstudy(uncorrelated: bool) -> ModelMatrices {
    let (h, rows) = parse_csv(SLEEPSTUDY);
    let n = rows.len();
    let days = numbers(&column(&h, &rows, "Days"));
    let y = numbers(&column(&h, &rows, "Reaction"));
    let (levels, refs) = factor(&column(&h, &rows, "Subject"));
    let terms = if uncorrelated {
        vec![
            RandomEffectsTerm {
                group: "Subject".into(),
                columns: vec!["(Intercept)".into()],
                levels: levels.clone(),
                refs: refs.clone(),
                z: vec![1.0; n],
            },
            RandomEffectsTerm {
                group: "Subject".into(),
                columns: vec!["Days".into()],
                levels,
                refs,
                z: days.clone(),
            },
        ]
    } else {
        vec![RandomEffectsTerm {
            group: "Subject".into(),
            columns: vec!["(Intercept)".into(), "Days".into()],
            levels,
            refs,
            z: days.iter().flat_map(|&d| [1.0, d]).collect(),
        }]
    };
    ModelMatrices {
        response: "Reaction".into(),
        y,
        x: Mat::from_fn(n, 2, |i, j| if j == 0 { 1.0 } else { days[i] }),
        fixed_names: vec!["(Intercept)".into(), "Days".into()],
        dropped_fixed: vec![],
        terms,
        rows_dropped: 0,
    }
}
