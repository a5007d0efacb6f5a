//! `lmm-report fit` on the inputs lme4 users really have: R's `write.csv` exports with
//! integer-coded factors, stray missing-value spellings, R's `Inf`/`NaN`, semicolon and tab
//! files, Parquet and Arrow IPC, standard input; and the result written to a closed pipe or a
//! full disk. One test per doubtful input, asserting its message and exit code.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::{close_abs, lme4, lme4_formula};

const BIN: &str = env!("CARGO_BIN_EXE_lmm-report");
const SLEEP: &str = "Reaction ~ 1 + Days + (1 + Days|Subject)";

fn fit(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("fit")
        .args(args)
        .output()
        .expect("binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lmm-report-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// sleepstudy with `Days` of data row `row` (1-based) replaced by `cell`.
fn sleep_with_days(row: usize, cell: &str) -> String {
    let text = std::fs::read_to_string("data/sleepstudy.csv").unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let fields: Vec<&str> = lines[row].split(',').collect();
    lines[row] = format!("{},{cell},{}", fields[0], fields[2]);
    lines.join("\n") + "\n"
}

/// Exit code 2, `message` on stderr (one error line, no panic), nothing on stdout.
fn assert_input_error(out: &Output, message: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(message), "expected {message:?} in {err:?}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.stdout.is_empty());
}

fn objective(out: &Output) -> f64 {
    json(out)["objective"].as_f64().unwrap()
}

fn sleep_objective() -> f64 {
    lme4("sleepstudy_slopes", "ML").objective
}

/// Fits the sleepstudy random-slopes model from the data the `data_args` name and checks
/// lme4's ML deviance.
fn assert_fits_sleepstudy(data_args: &[&str]) {
    let mut args = data_args.to_vec();
    args.extend(["--formula", SLEEP, "--json"]);
    close_abs(
        &format!("{args:?}"),
        objective(&fit(&args)),
        sleep_objective(),
        1e-6,
    );
}

// --- Item 3: columns have the types the user meant -------------------------------------------

#[test]
fn integer_coded_factor_used_as_a_number_gets_a_note() {
    let out = fit(&[
        "--data",
        "data/r/ChickWeight.csv",
        "--formula",
        "weight ~ Time * Diet + (1 + Time | Chick)",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let note = "Diet has 4 distinct integer values and is treated as numeric; write \
                factor(Diet) for a categorical effect";
    assert!(
        stderr(&out).contains(&format!("lmm-report fit: note: {note}")),
        "{}",
        stderr(&out)
    );
    let v = json(&out);
    assert_eq!(v["notes"][0], note);
    close_abs(
        "objective",
        v["objective"].as_f64().unwrap(),
        lme4_formula("chick_numeric_diet_ml").objective,
        1e-6,
    );
    // The text summary prints the note too.
    let out = fit(&[
        "--data",
        "data/r/ChickWeight.csv",
        "--formula",
        "weight ~ Time * Diet + (1 + Time | Chick)",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("Note: {note}")));
}

#[test]
fn factor_in_the_formula_and_declared_factor_fit_lme4s_model() {
    let want = lme4_formula("chick_factor_diet_ml").objective;
    let out = fit(&[
        "--data",
        "data/r/ChickWeight.csv",
        "--formula",
        "weight ~ Time * factor(Diet) + (1 + Time | Chick)",
        "--json",
    ]);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let v = json(&out);
    close_abs("objective", v["objective"].as_f64().unwrap(), want, 1e-6);
    assert_eq!(v["fixed"][2]["name"], "factor(Diet)2");
    let out = fit(&[
        "--data",
        "data/r/ChickWeight.csv",
        "--formula",
        "weight ~ Time * Diet + (1 + Time | Chick)",
        "--factor",
        "Diet",
        "--json",
    ]);
    let v = json(&out);
    close_abs("objective", v["objective"].as_f64().unwrap(), want, 1e-6);
    assert_eq!(v["fixed"][2]["name"], "Diet2");
    assert!(v["notes"].as_array().unwrap().is_empty());
}

#[test]
fn declared_factor_must_be_a_column() {
    let out = fit(&[
        "--data",
        "data/r/ChickWeight.csv",
        "--formula",
        "weight ~ Time + (1 | Chick)",
        "--factor",
        "Dyet",
    ]);
    assert_input_error(
        &out,
        "lmm-report fit: error: the factor column `Dyet` is not in the data; the data has \
         `weight`, `Time`, `Chick`, `Diet`",
    );
}

#[test]
fn a_text_cell_in_a_numeric_column_is_an_error_naming_it() {
    let path = temp("days-na-text.csv", sleep_with_days(37, "n/a").as_bytes());
    let out = fit(&["--data", path.to_str().unwrap(), "--formula", SLEEP]);
    assert_input_error(
        &out,
        &format!(
            "lmm-report fit: error: {}: column 'Days' holds numbers, but data row 37 (line 38) \
             has the text 'n/a'; if that means a missing value, add --na 'n/a'; if the column \
             is categorical, declare it with --factor Days",
            path.display()
        ),
    );
}

#[test]
fn na_tokens_declare_missing_values() {
    let path = temp("days-na-token.csv", sleep_with_days(37, "n/a").as_bytes());
    let out = fit(&[
        "--data",
        path.to_str().unwrap(),
        "--formula",
        SLEEP,
        "--na",
        "n/a",
        "--json",
    ]);
    assert!(stderr(&out).contains("1 of 180 rows dropped for missing values"));
    assert_eq!(json(&out)["nobs"], 179);
}

#[test]
fn a_text_cell_in_an_unused_column_is_harmless() {
    let text = std::fs::read_to_string("data/sleepstudy.csv")
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            0 => format!("{l},extra"),
            5 => format!("{l},oops"),
            _ => format!("{l},{i}"),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = temp("unused-text.csv", text.as_bytes());
    let out = fit(&[
        "--data",
        path.to_str().unwrap(),
        "--formula",
        SLEEP,
        "--json",
    ]);
    close_abs("objective", objective(&out), sleep_objective(), 1e-6);
}

#[test]
fn r_spellings_of_infinity_and_nan_are_non_finite_numbers() {
    for (cell, shown) in [
        ("Inf", "inf"),
        ("-Inf", "-inf"),
        ("NaN", "NaN"),
        ("inf", "inf"),
    ] {
        let path = temp(
            &format!("days-{cell}.csv"),
            sleep_with_days(12, cell).as_bytes(),
        );
        let out = fit(&["--data", path.to_str().unwrap(), "--formula", SLEEP]);
        assert_input_error(
            &out,
            &format!(
                "lmm-report fit: error: column `Days` has a non-finite value ({shown}) in data \
                 row 12"
            ),
        );
    }
}

// --- Item 2: prior weights ------------------------------------------------------------------

#[test]
fn weights_match_lme4_and_bad_weights_are_errors() {
    let reference = lme4_formula("sleep_weighted_reml");
    let out = fit(&[
        "--data",
        "data/r/sleepstudy_w.csv",
        "--formula",
        &reference.formula,
        "--weights",
        "w",
        "--reml",
        "--json",
    ]);
    close_abs("objective", objective(&out), reference.objective, 1e-6);
    let text = std::fs::read_to_string("data/r/sleepstudy_w.csv").unwrap();
    for (cell, problem) in [
        ("-1", "is negative (-1)"),
        ("NA", "is missing"),
        ("Inf", "is not finite (inf)"),
        ("0", "is zero"),
    ] {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let (head, _) = lines[3].rsplit_once(',').unwrap();
        lines[3] = format!("{head},{cell}");
        let path = temp(
            &format!("w-{cell}.csv"),
            (lines.join("\n") + "\n").as_bytes(),
        );
        let out = fit(&[
            "--data",
            path.to_str().unwrap(),
            "--formula",
            &reference.formula,
            "--weights",
            "w",
        ]);
        assert_input_error(
            &out,
            &format!(
                "lmm-report fit: error: the weights column `w` {problem} in data row 3; \
                 weights must be positive numbers"
            ),
        );
    }
}

#[test]
fn contrasts_option_matches_lme4() {
    let reference = lme4_formula("orthodont_contrsum_ml");
    let v = json(&fit(&[
        "--data",
        "data/r/Orthodont.csv",
        "--formula",
        &reference.formula,
        "--contrasts",
        "Sex=sum",
        "--json",
    ]));
    close_abs(
        "objective",
        v["objective"].as_f64().unwrap(),
        reference.objective,
        1e-6,
    );
    assert_eq!(v["fixed"][2]["name"], "Sex1");
    let out = fit(&[
        "--data",
        "data/r/Orthodont.csv",
        "--formula",
        &reference.formula,
        "--contrasts",
        "Sex=polynomial",
    ]);
    assert_input_error(
        &out,
        "unknown contrasts 'polynomial': use treatment, sum or helmert",
    );
}

#[test]
fn unknown_function_lists_the_supported_ones() {
    let out = fit(&[
        "--data",
        "data/sleepstudy.csv",
        "--formula",
        "Reaction ~ ns(Days, 3) + (1|Subject)",
    ]);
    assert_input_error(
        &out,
        "unknown function ns(): a formula can use factor(), as.factor(), log(), log2(), \
         log10(), log1p(), exp(), sqrt(), abs(), I(), poly(), scale(), offset()",
    );
}

// --- Item 4: input formats ------------------------------------------------------------------

fn sleep_with_separator(sep: &str) -> Vec<u8> {
    std::fs::read_to_string("data/sleepstudy.csv")
        .unwrap()
        .replace(',', sep)
        .into_bytes()
}

#[test]
fn semicolon_tab_and_given_separators_are_read() {
    let semicolon = temp("sleep-semicolon.csv", &sleep_with_separator(";"));
    let tab = temp("sleep-tab.txt", &sleep_with_separator("\t"));
    let tsv = temp("sleep.tsv", &sleep_with_separator("\t"));
    let pipe = temp("sleep-pipe.txt", &sleep_with_separator("|"));
    for args in [
        vec!["--data", semicolon.to_str().unwrap()],
        vec!["--data", tab.to_str().unwrap()],
        vec!["--data", tsv.to_str().unwrap()],
        vec!["--data", pipe.to_str().unwrap(), "--sep", "|"],
        vec!["--data", tab.to_str().unwrap(), "--sep", "tab"],
    ] {
        assert_fits_sleepstudy(&args);
    }
    let out = fit(&[
        "--data",
        "data/sleepstudy.csv",
        "--sep",
        "ab",
        "--formula",
        SLEEP,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("a separator is one character"));
}

/// R's `write.csv2`: semicolons and decimal commas.
#[test]
fn decimal_commas_in_a_semicolon_file_are_numbers() {
    let text = std::fs::read_to_string("data/sleepstudy.csv").unwrap();
    let converted: String = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            format!("{};{};{}\n", f[0].replace('.', ","), f[1], f[2])
        })
        .collect();
    let path = temp("sleep-csv2.csv", converted.as_bytes());
    let out = fit(&[
        "--data",
        path.to_str().unwrap(),
        "--formula",
        SLEEP,
        "--json",
    ]);
    close_abs("objective", objective(&out), sleep_objective(), 1e-6);
}

#[test]
fn csv_from_standard_input() {
    let mut child = Command::new(BIN)
        .args(["fit", "--data", "-", "--formula", SLEEP, "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read("data/sleepstudy.csv").unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    close_abs("objective", objective(&out), sleep_objective(), 1e-6);
}

#[test]
fn parquet_and_arrow_ipc_files_are_read() {
    use polars::prelude::*;
    let table = common::table("sleepstudy.csv");
    let column = |name: &str| match table.get(name).unwrap() {
        lmm_report::engine::Column::Numeric(v) => Series::new(name.into(), v.clone()),
        lmm_report::engine::Column::Integer(v) => Series::new(name.into(), v.clone()),
        lmm_report::engine::Column::Text(v) => Series::new(name.into(), v.clone()),
    };
    let mut frame = DataFrame::new(
        180,
        vec![
            column("Reaction").into(),
            column("Days").into(),
            column("Subject").into(),
        ],
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("lmm-report-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let parquet = dir.join("sleep.parquet");
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap())
        .finish(&mut frame)
        .unwrap();
    let ipc = dir.join("sleep.arrow");
    IpcWriter::new(std::fs::File::create(&ipc).unwrap())
        .finish(&mut frame)
        .unwrap();
    let other = dir.join("sleep-ipc.bin");
    std::fs::copy(&ipc, &other).unwrap();
    for args in [
        vec!["--data", parquet.to_str().unwrap()],
        vec!["--data", ipc.to_str().unwrap()],
        vec!["--data", other.to_str().unwrap(), "--format", "ipc"],
    ] {
        assert_fits_sleepstudy(&args);
    }
    // A CSV read as Parquet is a read error naming the file.
    let out = fit(&[
        "--data",
        "data/sleepstudy.csv",
        "--format",
        "parquet",
        "--formula",
        SLEEP,
    ]);
    assert_input_error(&out, "could not read data file data/sleepstudy.csv");
}

// --- Item 6: broken pipes and full disks, in every subcommand -------------------------------

/// Runs the binary with its standard output a pipe whose reading end is already closed.
fn closed_pipe(args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

/// Runs the binary with its standard output on `/dev/full`.
fn full_disk(args: &[&str]) -> Option<Output> {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .ok()?;
    Some(
        Command::new(BIN)
            .args(args)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap(),
    )
}

const FIT_TEXT: &[&str] = &["fit", "--data", "data/sleepstudy.csv", "--formula", SLEEP];
const FIT_JSON: &[&str] = &[
    "fit",
    "--data",
    "data/sleepstudy.csv",
    "--formula",
    SLEEP,
    "--json",
];
const CHECK: &[&str] = &["--check"];
const HELP: &[&str] = &["fit", "--help"];

#[test]
fn a_closed_pipe_ends_quietly() {
    for args in [FIT_TEXT, FIT_JSON, CHECK, HELP] {
        let out = closed_pipe(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn a_full_disk_is_one_error_line_and_exit_1() {
    for args in [FIT_TEXT, FIT_JSON, CHECK, HELP] {
        let Some(out) = full_disk(args) else {
            return; // no /dev/full on this system
        };
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("error: could not write to standard output: No space left on device"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn workload_to_a_full_disk_names_the_file() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let out = Command::new(BIN)
        .args([
            "workload",
            "--design",
            "slopes",
            "--rows",
            "2000",
            "--groups",
            "20",
            "--out",
            "/dev/full",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out).trim_end(),
        "lmm-report workload: error: could not write /dev/full: No space left on device (os \
         error 28)"
    );
}

// --- Item 5: output as lme4 shows it ----------------------------------------------------------

#[test]
fn nested_levels_are_named_and_ordered_as_lme4() {
    let reference = lme4_formula("oats_helmert_reml");
    let v = json(&fit(&[
        "--data",
        "data/r/Oats.csv",
        "--formula",
        &reference.formula,
        "--contrasts",
        "Variety=helmert",
        "--reml",
        "--json",
    ]));
    close_abs(
        "objective",
        v["objective"].as_f64().unwrap(),
        reference.objective,
        1e-6,
    );
    assert_eq!(v["groups"][0]["name"], "Variety:Block");
    assert_eq!(v["groups"][0]["levels"], 18);
    assert_eq!(v["groups"][1]["name"], "Block");
    assert_eq!(v["random"][0]["group"], "Variety:Block");
    let want = reference.theta_values();
    for (k, w) in want.iter().enumerate() {
        close_abs(
            &format!("theta[{k}]"),
            v["theta"][k].as_f64().unwrap(),
            *w,
            1e-5 * w,
        );
    }
    assert_eq!(v["fixed"][2]["name"], "Variety1");
    assert!(v["fixed"][2]["z"].is_number() && v["fixed"][2]["p_value"].is_number());
}
