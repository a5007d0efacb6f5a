//! The output guarantees under faults (README, "What a run guarantees"): a report directory is
//! replaced as a whole or not at all — killed at random points of the write phase, raced by a
//! second writer, with symlinks planted at the names a writer might use, on a read-only and on
//! a full file system — and no temporary state outlives the next run.
//!
//! "Old" is the report of `data/gasoline.csv`; "new" is the report of a variant panel whose
//! first car-ownership value differs, so every trial can tell which one it left.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BIN: &str = env!("CARGO_BIN_EXE_lmm-report");
/// The writer's test hook (`src/io/output/fault.rs`).
const STEP_DELAY_VAR: &str = "LMM_REPORT_FAULT_STEP_DELAY_US";

type Snapshot = BTreeMap<String, Vec<u8>>;

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lmm-report-faults-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every entry of `dir` (files only; a directory entry is recorded as empty with a marker).
fn snapshot(dir: &Path) -> Snapshot {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let kind = e.file_type().unwrap();
            let bytes = if kind.is_file() {
                std::fs::read(e.path()).unwrap()
            } else {
                format!("<not a regular file: {kind:?}>").into_bytes()
            };
            (name, bytes)
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for (name, bytes) in snapshot(from) {
        std::fs::write(to.join(name), bytes).unwrap();
    }
}

/// Entries of `parent` that a writer of `parent/name` leaves behind (`.name.tmp-*`,
/// `.name.old-*`).
fn leftovers(parent: &Path, name: &str) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.")))
        .collect()
}

struct Reports {
    old_dir: PathBuf,
    old_data: PathBuf,
    new_data: PathBuf,
    old: Snapshot,
    new: Snapshot,
}

/// The two reports, rendered once by the binary.
fn reports() -> &'static Reports {
    static REPORTS: OnceLock<Reports> = OnceLock::new();
    REPORTS.get_or_init(|| {
        let dir = scratch("reports");
        let old_data = PathBuf::from("data/gasoline.csv");
        let new_data = dir.join("variant.csv");
        let text = std::fs::read_to_string(&old_data).unwrap();
        let variant = text.replacen("4.173244195", "4.173244196", 1);
        assert_ne!(variant, text, "the variant changes the panel");
        std::fs::write(&new_data, variant).unwrap();
        let render = |data: &Path, out: &Path| {
            let status = Command::new(BIN)
                .args([
                    "--data",
                    data.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                ])
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
            snapshot(out)
        };
        let old = render(&old_data, &dir.join("old"));
        let new = render(&new_data, &dir.join("new"));
        assert_ne!(old, new);
        Reports {
            old_dir: dir.join("old"),
            old_data,
            new_data,
            old,
            new,
        }
    })
}

/// A scratch directory for `test` with `out` inside it holding the old report.
fn with_old_report(test: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(test);
    let out = dir.join("out");
    copy_dir(&reports().old_dir, &out);
    (dir, out)
}

/// Writes the report of `data` into `out` and asserts that the run succeeded.
fn write_ok(data: &Path, out: &Path) {
    let done = write_report(data, out);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
}

fn write_report(data: &Path, out: &Path) -> std::process::Output {
    Command::new(BIN)
        .args([
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap()
}

/// Which report `out` holds: "old", "new", or a panic naming what is wrong.
fn which(out: &Path) -> &'static str {
    let r = reports();
    let got = snapshot(out);
    if got == r.old {
        "old"
    } else if got == r.new {
        "new"
    } else {
        let mixed: Vec<_> = got
            .iter()
            .filter(|(n, b)| r.old.get(*n) != Some(b) && r.new.get(*n) != Some(b))
            .map(|(n, _)| n.clone())
            .collect();
        panic!(
            "{} holds neither report: {} entries, foreign or mixed: {mixed:?}",
            out.display(),
            got.len()
        );
    }
}

#[test]
fn a_kill_at_any_point_of_the_write_leaves_the_old_or_the_new_report() {
    const TRIALS: usize = 50;
    const STEP_US: u64 = 2_000;
    let r = reports();
    let dir = scratch("kill");
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut outcomes = BTreeMap::new();
    for trial in 0..TRIALS {
        let out = dir.join("out");
        let _ = std::fs::remove_dir_all(&out);
        for stale in leftovers(&dir, "out") {
            let _ = std::fs::remove_dir_all(dir.join(stale));
        }
        copy_dir(&r.old_dir, &out);
        assert_eq!(which(&out), "old");
        let mut child = Command::new(BIN)
            .args([
                "--data",
                r.new_data.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .env(STEP_DELAY_VAR, STEP_US.to_string())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // Kill after the k-th announced step of the write phase (k uniform over all of them),
        // a random fraction of a pause later, so that every gap between two steps is hit.
        let steps = r.new.len() + 3;
        let k = rng.random_range(1..=steps);
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        for _ in 0..k {
            line.clear();
            stderr.read_line(&mut line).unwrap();
            assert!(line.contains("fault point"), "trial {trial}: {line}");
        }
        let pause = rng.random_range(0..2 * STEP_US);
        std::thread::sleep(Duration::from_micros(pause));
        child.kill().unwrap();
        child.wait().unwrap();
        *outcomes.entry(which(&out)).or_insert(0) += 1;
    }
    eprintln!("kill trials: {outcomes:?}");
    assert!(
        outcomes.get("old").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );
    assert!(
        outcomes.get("new").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );
    // Whatever the kills left is cleaned up by the next run, which succeeds.
    let out = dir.join("out");
    write_ok(&r.old_data, &out);
    assert_eq!(which(&out), "old");
    assert_eq!(leftovers(&dir, "out"), Vec::<String>::new());
}

#[test]
fn two_concurrent_writers_both_succeed_and_one_report_is_left_whole() {
    let r = reports();
    let dir = scratch("concurrent");
    let out = dir.join("out");
    for round in 0..5 {
        let spawn = |data: &Path| {
            Command::new(BIN)
                .args([
                    "--data",
                    data.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                ])
                .stderr(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(&r.old_data), spawn(&r.new_data));
        for child in [a, b] {
            let done = child.wait_with_output().unwrap();
            assert!(
                done.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&done.stderr)
            );
        }
        which(&out);
        assert_eq!(leftovers(&dir, "out"), Vec::<String>::new());
    }
}

#[test]
fn symlinks_planted_at_every_name_a_writer_might_use_are_not_followed() {
    let r = reports();
    let (dir, out) = with_old_report("symlinks");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap();
    let victim_dir = dir.join("victim-dir");
    std::fs::create_dir_all(&victim_dir).unwrap();
    std::fs::write(victim_dir.join("keep.txt"), "keep\n").unwrap();
    let link = |at: PathBuf, to: &Path| {
        let _ = std::fs::remove_file(&at);
        std::os::unix::fs::symlink(to, at).unwrap();
    };
    // The old fixed temporary names, a report file itself, and the temporary and set-aside
    // names next to the directory.
    for name in r.new.keys() {
        link(out.join(format!(".{name}.tmp")), &victim);
    }
    link(out.join("report.md"), &victim);
    link(dir.join(".out.tmp-planted"), &victim_dir);
    link(dir.join(".out.old-planted"), &victim_dir);
    write_ok(&r.new_data, &out);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(
        std::fs::read_to_string(victim_dir.join("keep.txt")).unwrap(),
        "keep\n"
    );
    let got = snapshot(&out);
    for (name, bytes) in &r.new {
        assert_eq!(got.get(name), Some(bytes), "{name} is the new report's");
    }
    assert!(!std::fs::symlink_metadata(out.join("report.md"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(leftovers(&dir, "out"), Vec::<String>::new());
}

#[test]
fn a_directory_where_the_report_writes_a_file_is_refused_before_anything_changes() {
    let r = reports();
    let (dir, out) = with_old_report("refused");
    std::fs::remove_file(out.join("fig2.svg")).unwrap();
    std::fs::create_dir_all(out.join("fig2.svg")).unwrap();
    std::fs::write(out.join("fig2.svg").join("mine.txt"), "mine\n").unwrap();
    let before = snapshot(&out);
    let done = write_report(&r.new_data, &out);
    let msg = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(2), "{msg}");
    assert!(msg.contains("fig2.svg"), "{msg}");
    assert_eq!(snapshot(&out), before);
    assert_eq!(
        std::fs::read_to_string(out.join("fig2.svg").join("mine.txt")).unwrap(),
        "mine\n"
    );
    assert_eq!(leftovers(&dir, "out"), Vec::<String>::new());
}

/// A small tmpfs at a fresh directory, or `None` (with a message) where the test may not mount.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(test: &str, size: &str) -> Option<Tmpfs> {
        let dir = scratch(test).join("mnt");
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Some(Tmpfs(dir))
        } else {
            eprintln!("skipped: cannot mount a tmpfs here (needs root and mount rights)");
            None
        }
    }

    fn remount_read_only(&self) {
        let status = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// An old report small enough for the tmpfs: three files with known bytes.
fn small_old_report(out: &Path) -> Snapshot {
    std::fs::create_dir_all(out).unwrap();
    std::fs::write(out.join("report.md"), "old report\n").unwrap();
    std::fs::write(out.join("report.html"), "<p>old</p>\n").unwrap();
    std::fs::write(out.join("fig1.svg"), "<svg/>\n").unwrap();
    snapshot(out)
}

#[test]
fn a_full_file_system_fails_with_exit_1_and_leaves_the_old_report() {
    let r = reports();
    let total: usize = r.new.values().map(Vec::len).sum();
    // Room for the old report but not for the new one next to it.
    let Some(fs) = Tmpfs::mount("full", &format!("{}k", total / 1024 / 2)) else {
        return;
    };
    let out = fs.0.join("out");
    let before = small_old_report(&out);
    let done = write_report(&r.new_data, &out);
    let msg = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{msg}");
    assert!(msg.contains("could not write"), "{msg}");
    assert!(!msg.contains("panicked"), "{msg}");
    assert_eq!(snapshot(&out), before);
    assert_eq!(leftovers(&fs.0, "out"), Vec::<String>::new());
}

#[test]
fn a_read_only_file_system_fails_with_exit_1_and_leaves_the_old_report() {
    let r = reports();
    let Some(fs) = Tmpfs::mount("readonly", "4m") else {
        return;
    };
    let out = fs.0.join("out");
    let before = small_old_report(&out);
    fs.remount_read_only();
    let done = write_report(&r.new_data, &out);
    let msg = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{msg}");
    assert!(msg.contains("could not write"), "{msg}");
    assert_eq!(snapshot(&out), before);
}
