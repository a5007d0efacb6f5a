//! Inputs whose reading must be bounded (issue 13): only regular files are read — a FIFO, a
//! directory or a device given as a data, template or reference path is an error naming it,
//! never a hang — and loading a data file is linear in its number of columns.
//!
//! Every child process runs under a deadline and is killed when it passes it, so a regression
//! fails the test instead of hanging the suite.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lmm_report::io::{read_table, source::DataSource, source::ReadOptions};

const BIN: &str = env!("CARGO_BIN_EXE_lmm-report");

fn scratch(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("lmm-report-bounded-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs the binary from the workspace root; returns (exit code, stderr), or fails if it is
/// still running after `limit` (and kills it).
fn run_within(args: &[&str], limit: Duration) -> (i32, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            return (status.code().unwrap_or(-1), stderr);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} still running after {limit:?} (blocked on a non-regular file?)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn a_fifo_directory_or_device_as_data_is_an_error_naming_it() {
    let dir = scratch("data");
    let fifo = dir.join("data.csv");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap().to_owned();
    let dir_arg = dir.to_str().unwrap().to_owned();
    for (path, what) in [
        (fifo.as_str(), "a FIFO (named pipe)"),
        (dir_arg.as_str(), "a directory"),
        ("/dev/zero", "a character device"),
    ] {
        // The fit subcommand, in every format (each one reads the bytes the same way).
        for format in ["csv", "parquet", "ipc"] {
            let (code, err) = run_within(
                &[
                    "fit",
                    "--data",
                    path,
                    "--format",
                    format,
                    "--formula",
                    "y ~ x",
                ],
                LIMIT,
            );
            assert_eq!(code, 2, "{path} {format}: {err}");
            assert!(err.contains(path) && err.contains(what), "{err}");
        }
        // The report's data file.
        let out = scratch("data-out");
        let (code, err) = run_within(&["--data", path, "--out", out.to_str().unwrap()], LIMIT);
        assert_ne!(code, 0, "{err}");
        assert!(err.contains(path) && err.contains(what), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fifo_or_directory_as_template_or_reference_is_an_error_naming_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (kind, file, make_fifo) in [
        ("templates", "report.md.j2", true),
        ("templates", "report.html.j2", false),
        ("reference", "lme4.json", true),
        ("reference", "article_estimator.json", false),
    ] {
        let dir = scratch(&format!("{kind}-{file}"));
        let source = root.join(if kind == "templates" {
            "templates"
        } else {
            "data/reference"
        });
        for entry in std::fs::read_dir(&source).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_file() {
                std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
            }
        }
        let target = dir.join(file);
        std::fs::remove_file(&target).unwrap();
        let what = if make_fifo {
            mkfifo(&target);
            "a FIFO (named pipe)"
        } else {
            std::fs::create_dir(&target).unwrap();
            "a directory"
        };
        let out = scratch(&format!("{kind}-out"));
        let (code, err) = run_within(
            &[
                &format!("--{kind}"),
                dir.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            LIMIT,
        );
        assert_ne!(code, 0, "{err}");
        assert!(
            err.contains(target.to_str().unwrap()) && err.contains(what),
            "{kind}/{file}: {err}"
        );
        // Nothing was written.
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn loading_is_linear_in_the_number_of_columns() {
    // 200,000 columns x 20 rows (8 MB). Looking each name up by a linear search took ~35 s
    // for this file; the polars read itself takes about a second.
    let columns = 200_000;
    let mut text = String::with_capacity(9_000_000);
    text.push_str("y,g");
    for c in 0..columns {
        text.push_str(&format!(",c{c}"));
    }
    text.push('\n');
    for r in 0..20 {
        text.push_str(&format!("{r}.5,{}", r % 4));
        for c in 0..columns {
            text.push_str(&format!(",{}", (r + c) % 10));
        }
        text.push('\n');
    }
    let dir = scratch("wide");
    let path = dir.join("wide.csv");
    std::fs::write(&path, text).unwrap();
    let start = Instant::now();
    let table = read_table(&DataSource::Path(path), &ReadOptions::default()).unwrap();
    let took = start.elapsed();
    assert_eq!(table.names().len(), columns + 2);
    assert_eq!(table.nrows(), 20);
    assert!(table.get("c199999").is_some());
    assert!(took < Duration::from_secs(15), "took {took:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
