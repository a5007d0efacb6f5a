//! Loading the gasoline panel: shape, derived columns, group means, and every kind of bad
//! input the loader must reject with a precise message.

use std::path::{Path, PathBuf};

use lmm_report::engine::Column;
use lmm_report::io::{self as data, DataError, GasolinePanel};

fn gasoline_text() -> String {
    std::fs::read_to_string("data/gasoline.csv").unwrap()
}

/// Writes `text` to a fresh file in a per-test temporary directory.
fn temp_csv(test: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lmm-report-data-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("panel.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// The gasoline CSV with the field `column` of data row `row` (1-based) replaced by `value`.
fn with_cell(column: &str, row: usize, value: &str) -> String {
    let text = gasoline_text();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header
        .iter()
        .position(|h| h.trim_matches('"') == column)
        .unwrap();
    let mut fields: Vec<String> = lines[row].split(',').map(str::to_owned).collect();
    fields[col] = value.to_owned();
    lines[row] = fields.join(",");
    lines.join("\n") + "\n"
}

#[test]
fn panel_has_the_documented_shape_and_derived_time() {
    let panel = GasolinePanel::load(Path::new("data/gasoline.csv")).unwrap();
    assert_eq!(panel.nrows(), 342);
    assert_eq!(panel.countries.len(), 18);
    assert_eq!(panel.countries[0], "AUSTRIA");
    for (year, time) in panel.year.iter().zip(&panel.time) {
        assert_eq!(*time, year - 1965.0);
    }
    assert_eq!(panel.time.iter().cloned().fold(f64::MAX, f64::min), -5.0);
    assert_eq!(panel.time.iter().cloned().fold(f64::MIN, f64::max), 13.0);
    for c in 0..18 {
        assert_eq!(panel.rows_of(c).count(), 19);
    }
}

#[test]
fn country_means_and_within_deviations_are_consistent() {
    let panel = GasolinePanel::load(Path::new("data/gasoline.csv")).unwrap();
    assert_eq!(panel.country_means.len(), 18);
    for (c, means) in panel.country_means.iter().enumerate() {
        assert_eq!(
            means.country, panel.countries[c],
            "means in first-appearance order"
        );
        let rows: Vec<usize> = panel.rows_of(c).collect();
        let mean = rows.iter().map(|&i| panel.lcarpcap[i]).sum::<f64>() / rows.len() as f64;
        assert!((mean - means.lcarpcap).abs() < 1e-12);
        let dev_car: f64 = rows.iter().map(|&i| panel.within[i].0).sum();
        let dev_inc: f64 = rows.iter().map(|&i| panel.within[i].1).sum();
        assert!(dev_car.abs() < 1e-10 && dev_inc.abs() < 1e-10);
    }
}

#[test]
fn general_csv_reader_types_columns() {
    let df = data::read_csv(Path::new("data/sleepstudy.csv")).unwrap();
    let table = data::frame_to_table(&df, Path::new("data/sleepstudy.csv")).unwrap();
    assert_eq!(table.nrows(), 180);
    assert!(matches!(table.get("Reaction"), Some(Column::Numeric(_))));
    // Integer columns stay integers (exact); the design uses them as numbers or as grouping
    // factors with numerically sorted levels.
    assert!(matches!(table.get("Days"), Some(Column::Integer(_))));
    // Subject is quoted but numeric: polars reads it as integers.
    match table.get("Subject") {
        Some(Column::Integer(v)) => assert_eq!(v[0], Some(308)),
        other => panic!("Subject read as {other:?}"),
    }
}

#[test]
fn missing_file_is_named() {
    let err = GasolinePanel::load(Path::new("data/no-such-file.csv")).unwrap_err();
    assert!(matches!(err, DataError::NotFound { .. }));
    assert!(err.to_string().contains("no-such-file.csv"), "{err}");
}

#[test]
fn missing_column_is_named() {
    let text = gasoline_text().replacen("\"LRPMG\"", "\"Price\"", 1);
    let err = GasolinePanel::load(&temp_csv("missing-column", &text)).unwrap_err();
    assert!(
        matches!(&err, DataError::MissingColumn { column, .. } if column == "LRPMG"),
        "{err}"
    );
    assert!(err.to_string().contains("'LRPMG' is missing"), "{err}");
}

#[test]
fn non_numeric_column_is_named() {
    let err = GasolinePanel::load(&temp_csv(
        "non-numeric",
        &with_cell("LIncomeP", 7, "\"high\""),
    ))
    .unwrap_err();
    assert!(
        matches!(&err, DataError::NonNumericColumn { column, .. } if column == "LIncomeP"),
        "{err}"
    );
}

#[test]
fn empty_cell_is_located() {
    let err = GasolinePanel::load(&temp_csv("empty", &with_cell("LCarPCap", 12, ""))).unwrap_err();
    assert!(
        matches!(&err, DataError::MissingValue { column, row, .. } if column == "LCarPCap" && *row == 12),
        "{err}"
    );
    assert!(err.to_string().contains("data row 12 (line 13)"), "{err}");
}

#[test]
fn na_cell_is_a_missing_value() {
    let err = GasolinePanel::load(&temp_csv("na", &with_cell("Year", 3, "NA"))).unwrap_err();
    assert!(
        matches!(&err, DataError::MissingValue { column, row, .. } if column == "Year" && *row == 3),
        "{err}"
    );
}

#[test]
fn nan_is_located() {
    let err = GasolinePanel::load(&temp_csv("nan", &with_cell("LRPMG", 100, "NaN"))).unwrap_err();
    assert!(
        matches!(&err, DataError::NonFinite { column, row, .. } if column == "LRPMG" && *row == 100),
        "{err}"
    );
}

#[test]
fn unbalanced_panel_is_rejected() {
    let text = gasoline_text();
    let truncated: String = text.lines().take(300).map(|l| format!("{l}\n")).collect();
    let err = GasolinePanel::load(&temp_csv("unbalanced", &truncated)).unwrap_err();
    assert!(matches!(err, DataError::Shape { .. }), "{err}");
}

#[test]
fn a_column_that_changes_type_late_is_read_whole() {
    // 12,000 integer rows, then a fraction: far beyond the quick schema inference window.
    let mut text = String::from("y,x,g\n");
    for i in 0..12_000 {
        text.push_str(&format!("{},{},{}\n", i % 7, i, i % 5));
    }
    text.push_str("3.5,12000,1\n");
    let path = temp_csv("late-type", &text);
    let df = data::read_csv(&path).unwrap();
    let table = data::frame_to_table(&df, &path).unwrap();
    match table.get("y") {
        Some(Column::Numeric(v)) => {
            assert_eq!(v.len(), 12_001);
            assert_eq!(v[12_000], Some(3.5));
        }
        other => panic!("y read as {other:?}"),
    }
}
