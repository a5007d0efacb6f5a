//! One reading rule for every input format (issue 13, item 2): R's `Inf`, `-Inf` and `NaN`
//! are numbers in CSV, TSV, Parquet, Arrow IPC and CSV on standard input (also when they
//! first appear after the rows used to guess the column types), and integer IDs beyond 2⁵³
//! stay exact in every reader — as integers up to i64::MAX, as text above it — never through
//! f64, where neighbouring IDs would merge.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use lmm_report::engine::{Column, Table};
use lmm_report::io::{
    read_table,
    source::{DataFormat, DataSource, ReadOptions},
};
use polars::prelude::*;

const BIN: &str = env!("CARGO_BIN_EXE_lmm-report");

fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lmm-report-reader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `text` (comma-separated) read as CSV, as TSV, and as Parquet and IPC files holding the same
/// cells as text columns; each table with the name of its format.
fn every_format(name: &str, text: &str) -> Vec<(&'static str, Table)> {
    let dir = dir();
    let csv = dir.join(format!("{name}.csv"));
    std::fs::write(&csv, text).unwrap();
    let tsv = dir.join(format!("{name}.tsv"));
    std::fs::write(&tsv, text.replace(',', "\t")).unwrap();
    let read =
        |path: &PathBuf| read_table(&DataSource::Path(path.clone()), &ReadOptions::default());
    let mut out = vec![("csv", read(&csv).unwrap()), ("tsv", read(&tsv).unwrap())];
    // Parquet and IPC with every column as text: the same classification applies.
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let columns: Vec<polars::prelude::Column> = header
        .iter()
        .enumerate()
        .map(|(j, h)| {
            let cells: Vec<Option<&str>> = rows
                .iter()
                .map(|r| Some(r[j]).filter(|c| !c.is_empty()))
                .collect();
            Series::new((*h).into(), cells).into()
        })
        .collect();
    let mut frame = DataFrame::new(rows.len(), columns).unwrap();
    let parquet = dir.join(format!("{name}.parquet"));
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap())
        .finish(&mut frame)
        .unwrap();
    let ipc = dir.join(format!("{name}.arrow"));
    IpcWriter::new(std::fs::File::create(&ipc).unwrap())
        .finish(&mut frame)
        .unwrap();
    out.push(("parquet", read(&parquet).unwrap()));
    out.push(("ipc", read(&ipc).unwrap()));
    out
}

fn numeric(table: &Table, column: &str) -> Vec<Option<f64>> {
    match table.get(column).unwrap() {
        Column::Numeric(v) => v.clone(),
        other => panic!("{column} is not numeric: {other:?}"),
    }
}

#[test]
fn infinities_are_numbers_in_every_format() {
    let text = "y,x\n1,1.5\n2,Inf\n3,-Inf\n4,NaN\n5,\n6,inf\n";
    for (format, table) in every_format("inf", text) {
        let x = numeric(&table, "x");
        assert_eq!(x[0], Some(1.5), "{format}");
        assert_eq!(x[1], Some(f64::INFINITY), "{format}");
        assert_eq!(x[2], Some(f64::NEG_INFINITY), "{format}");
        assert!(x[3].unwrap().is_nan(), "{format}");
        assert_eq!(x[4], None, "{format}");
        assert_eq!(x[5], Some(f64::INFINITY), "{format}");
    }
    // Native floating-point infinities in Parquet and IPC are numbers too.
    let dir = dir();
    let mut frame = df!("x" => [1.0, f64::INFINITY, f64::NEG_INFINITY]).unwrap();
    for (format, ext) in [(DataFormat::Parquet, "parquet"), (DataFormat::Ipc, "arrow")] {
        let path = dir.join(format!("native-inf.{ext}"));
        let file = std::fs::File::create(&path).unwrap();
        match format {
            DataFormat::Parquet => {
                ParquetWriter::new(file).finish(&mut frame).unwrap();
            }
            _ => IpcWriter::new(file).finish(&mut frame).unwrap(),
        }
        let table = read_table(&DataSource::Path(path), &ReadOptions::default()).unwrap();
        assert_eq!(
            numeric(&table, "x"),
            [Some(1.0), Some(f64::INFINITY), Some(f64::NEG_INFINITY)]
        );
    }
}

#[test]
fn an_infinity_after_the_type_guessing_rows_is_still_a_number() {
    // Types are guessed from the first rows (100); an `Inf` at row 12,000 must not turn the
    // column into text (nor fail the read).
    let mut text = String::from("y,x\n");
    for i in 0..12_000 {
        let x = if i == 11_999 {
            "Inf".to_owned()
        } else {
            format!("{}.25", i % 7)
        };
        text.push_str(&format!("{i},{x}\n"));
    }
    for (format, table) in every_format("late-inf", &text) {
        let x = numeric(&table, "x");
        assert_eq!(x[11_999], Some(f64::INFINITY), "{format}");
        assert_eq!(x[3], Some(3.25), "{format}");
    }
}

/// IDs 2⁵³ + k, k = 0..6: as f64, 2⁵³ + 1 rounds to 2⁵³, so the IDs would merge.
fn huge_ids_text(base: &str) -> String {
    let mut text = String::from("y,id\n");
    for k in 0..6 {
        text.push_str(&format!("{k},{base}{k}\n"));
    }
    text
}

#[test]
fn integer_ids_beyond_2_53_are_exact_in_every_format() {
    let base = 1_u64 << 53;
    let text = (0..6)
        .map(|k| format!("{k},{}\n", base + k))
        .fold(String::from("y,id\n"), |t, l| t + &l);
    for (format, table) in every_format("huge-ids", &text) {
        match table.get("id").unwrap() {
            Column::Integer(v) => {
                let want: Vec<Option<i64>> = (0..6).map(|k| Some((base + k) as i64)).collect();
                assert_eq!(v, &want, "{format}");
            }
            other => panic!("{format}: ids are {other:?}"),
        }
    }
    // Beyond i64::MAX the IDs cannot be integers: they are kept as their text, still distinct.
    let text = huge_ids_text("1844674407370955160");
    for (format, table) in every_format("huger-ids", &text) {
        match table.get("id").unwrap() {
            Column::Text(v) => {
                let want: Vec<Option<String>> = (0..6)
                    .map(|k| Some(format!("1844674407370955160{k}")))
                    .collect();
                assert_eq!(v, &want, "{format}");
            }
            Column::Integer(_) => panic!("{format}: wrapped into i64"),
            Column::Numeric(v) => panic!("{format}: ids went through f64: {v:?}"),
        }
    }
}

#[test]
fn standard_input_follows_the_same_rules() {
    // Six subjects with IDs beyond 2⁵³ (as f64 they would be fewer): the fit sees six levels.
    let base = 1_u64 << 53;
    let mut text = String::from("y,x,id\n");
    for i in 0..36_u64 {
        let y = (i * 7 % 11) as f64 + 0.5 * (i % 6) as f64;
        text.push_str(&format!("{y},{},{}\n", i % 4, base + i % 6));
    }
    let run = |text: &str, formula: &str| {
        let mut child = Command::new(BIN)
            .args(["fit", "--data", "-", "--formula", formula, "--json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run(&text, "y ~ x + (1 | id)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["groups"][0]["levels"], 6);
    // `Inf` in a used column is a non-finite number, not a factor level.
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let cells: Vec<String> = lines[3].split(',').map(str::to_owned).collect();
    lines[3] = format!("{},Inf,{}", cells[0], cells[2]);
    let with_inf = lines.join("\n") + "\n";
    let out = run(&with_inf, "y ~ x + (1 | id)");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("column `x` has a non-finite value (inf)"),
        "{err}"
    );
}

#[test]
fn column_types_do_not_depend_on_the_rows_used_to_guess_them() {
    // CSV types are guessed from the first 100 rows and the file is read again whole when a
    // later cell does not fit. Each column here changes after row 150; CSV and TSV must give
    // the same columns as Parquet and IPC files of text cells, which are classified from
    // every cell.
    let huge = "18446744073709551616";
    let mut text = String::from(
        "y,empty_then_int,empty_then_real,int_then_real,int_then_huge,bool_then_text\n",
    );
    for i in 0..400 {
        let late = i >= 150;
        let cells = [
            i.to_string(),
            if late {
                (i % 9).to_string()
            } else {
                String::new()
            },
            if late {
                format!("{}.5", i % 9)
            } else {
                String::new()
            },
            if late && i == 300 {
                "2.25".into()
            } else {
                (i % 4).to_string()
            },
            if i == 399 {
                huge.into()
            } else {
                (i % 3).to_string()
            },
            if i == 250 {
                "maybe".into()
            } else {
                (i % 2 == 0).to_string()
            },
        ];
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    let tables = every_format("late-kinds", &text);
    let (_, reference) = tables.iter().find(|(f, _)| *f == "parquet").unwrap();
    let kind = |c: Option<&Column>| match c {
        Some(Column::Integer(_)) => "integer",
        Some(Column::Numeric(_)) => "numeric",
        Some(Column::Text(_)) => "text",
        _ => "other",
    };
    for (column, expected) in [
        ("empty_then_int", "integer"),
        ("empty_then_real", "numeric"),
        ("int_then_real", "numeric"),
        ("int_then_huge", "text"),
        ("bool_then_text", "text"),
    ] {
        assert_eq!(kind(reference.get(column)), expected, "{column}");
        for (format, table) in &tables {
            assert_eq!(
                table.get(column),
                reference.get(column),
                "{format}: {column}"
            );
        }
    }
}
