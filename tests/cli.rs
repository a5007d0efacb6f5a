//! The binary end to end: regeneration, `--check`, byte-identical renders, and bad input that
//! must fail cleanly (right exit code, one clear message, previous output untouched).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lmm_report::report::{self, ReportConfig};

const BIN: &str = env!("CARGO_BIN_EXE_lmm-report");

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lmm-report-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Snapshot of every file in a directory, for "left untouched" assertions.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn rendering_twice_gives_identical_bytes() {
    let a = report::render(&ReportConfig::default()).unwrap();
    let b = report::render(&ReportConfig::default()).unwrap();
    assert_eq!(a, b);
    let names: Vec<&str> = a.files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "caterpillar.svg",
            "fig1.svg",
            "fig2.svg",
            "fig3.svg",
            "influence.svg",
            "posterior.svg",
            "profile.svg",
            "report.html",
            "report.md",
            "results.json",
            "sparsity-l.svg",
            "sparsity-z-slopes.svg",
            "sparsity-z.svg",
            "study-sigma-b2.svg",
            "study-sigma2.svg"
        ]
    );
}

#[test]
fn committed_output_is_up_to_date() {
    let out = run(&["--check"]);
    assert!(
        out.status.success(),
        "output/ is stale; run `cargo run --release`:\n{}",
        stderr(&out)
    );
}

#[test]
fn check_passes_on_fresh_output_and_names_a_changed_file() {
    let dir = scratch("check");
    let out_dir = dir.to_str().unwrap();
    let written = run(&["--out", out_dir]);
    assert!(written.status.success(), "{}", stderr(&written));
    let check = run(&["--out", out_dir, "--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));

    let target = dir.join("report.md");
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[10] ^= 0x01;
    std::fs::write(&target, bytes).unwrap();
    let drift = run(&["--out", out_dir, "--check"]);
    assert_eq!(drift.status.code(), Some(1));
    let msg = stderr(&drift);
    assert!(
        msg.contains("report.md: differs (first at byte 10)"),
        "{msg}"
    );
    assert!(
        !msg.contains("report.html"),
        "only the changed file is listed: {msg}"
    );

    std::fs::remove_file(dir.join("fig2.svg")).unwrap();
    let missing = run(&["--out", out_dir, "--check"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("fig2.svg: missing"));
}

/// Runs the binary with `args` into an output directory that already holds a previous run,
/// and asserts the exit code, the message, and that the directory is unchanged.
fn assert_fails_cleanly(test: &str, args: &[&str], code: i32, message: &str) {
    let dir = scratch(test);
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    std::fs::write(out_dir.join("report.md"), "previous report\n").unwrap();
    let before = snapshot(&out_dir);
    let mut all = vec!["--out", out_dir.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run(&all);
    let msg = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{msg}");
    assert!(msg.contains(message), "expected {message:?} in {msg:?}");
    assert!(!msg.contains("panicked"), "{msg}");
    assert_eq!(msg.lines().count(), 1, "one clear message: {msg}");
    assert_eq!(snapshot(&out_dir), before, "output left untouched");
}

fn write_variant(test: &str, transform: impl Fn(&str) -> String) -> PathBuf {
    let dir = scratch(&format!("{test}-data"));
    let path = dir.join("gasoline.csv");
    let text = std::fs::read_to_string("data/gasoline.csv").unwrap();
    std::fs::write(&path, transform(&text)).unwrap();
    path
}

#[test]
fn missing_data_file_exits_2() {
    assert_fails_cleanly(
        "missing-file",
        &["--data", "no/such/gasoline.csv"],
        2,
        "no/such/gasoline.csv does not exist",
    );
}

#[test]
fn missing_column_exits_2() {
    let path = write_variant("missing-column", |t| {
        t.replacen("\"LIncomeP\"", "\"Income\"", 1)
    });
    assert_fails_cleanly(
        "missing-column",
        &["--data", path.to_str().unwrap()],
        2,
        "required column 'LIncomeP' is missing",
    );
}

#[test]
fn non_numeric_column_exits_2() {
    let path = write_variant("non-numeric", |t| t.replacen("-9.766839569", "\"lots\"", 1));
    assert_fails_cleanly(
        "non-numeric",
        &["--data", path.to_str().unwrap()],
        2,
        "column 'LCarPCap' must be numeric",
    );
}

#[test]
fn empty_cell_exits_2() {
    let path = write_variant("empty-cell", |t| t.replacen(",-0.334547613,", ",,", 1));
    assert_fails_cleanly(
        "empty-cell",
        &["--data", path.to_str().unwrap()],
        2,
        "column 'LRPMG' has an empty cell at data row 1 (line 2)",
    );
}

#[test]
fn nan_exits_2() {
    let path = write_variant("nan", |t| t.replacen("4.173244195", "NaN", 1));
    assert_fails_cleanly(
        "nan",
        &["--data", path.to_str().unwrap()],
        2,
        "column 'LGasPCar' has the non-finite value NaN at data row 1",
    );
}

#[test]
fn template_error_exits_1() {
    let dir = scratch("templates");
    std::fs::copy("templates/report.html.j2", dir.join("report.html.j2")).unwrap();
    std::fs::write(dir.join("report.md.j2"), "# Title\n\n{{ data.rows \n").unwrap();
    assert_fails_cleanly(
        "template-error",
        &["--templates", dir.to_str().unwrap()],
        1,
        "report.md.j2: syntax error",
    );
}

#[test]
fn unknown_template_variable_exits_1() {
    let dir = scratch("templates-undefined");
    std::fs::copy("templates/report.html.j2", dir.join("report.html.j2")).unwrap();
    std::fs::write(dir.join("report.md.j2"), "{{ no_such_value }}\n").unwrap();
    assert_fails_cleanly(
        "template-undefined",
        &["--templates", dir.to_str().unwrap()],
        1,
        "undefined value",
    );
}

#[test]
fn usage_error_exits_2() {
    let out = run(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}
