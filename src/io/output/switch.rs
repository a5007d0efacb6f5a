//! [`replace_dir`]: the report directory is replaced as a whole or not at all.
//!
//! 1. Refuse, before touching anything, a destination that is not a directory, and an old
//!    directory holding a subdirectory (the report writes none, so it is the user's and would
//!    be lost) or a directory where the report writes a file.
//! 2. Lock the parent directory ([`super::lock`]): concurrent runs on one `--out` serialise,
//!    and the second one writes its own complete report after the first.
//! 3. Remove what a killed earlier run left behind (`.NAME.tmp-*`, `.NAME.old-*`), or put the
//!    old report back if a run died between the two renames of the fallback below.
//! 4. Write every file into a fresh directory `.NAME.tmp-XXXXXX` next to the destination
//!    (unpredictable name, created exclusively by `tempfile`, private until the switch);
//!    files are opened with `O_EXCL`, so nothing planted there is followed. Files of the old
//!    directory that the report does not write are carried over as hard links. Every file
//!    and the directory are synced.
//! 5. Switch: `renameat2(RENAME_EXCHANGE)` swaps the two directories in one step, so at every
//!    instant the destination is exactly the old report or exactly the new one; the old one,
//!    now under the temporary name, is then deleted. Where the file system cannot exchange,
//!    the old directory is renamed aside first and step 3 of the next run restores it if the
//!    process dies in between.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::file::{permissions_of, sync_dir};
use super::{fault, lock, WriteError};

/// Replaces the directory `out` (created if absent) by one holding exactly `files` (plus the
/// old directory's files that are not report files). On error nothing at `out` has changed.
pub fn replace_dir(out: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(), WriteError> {
    let target = Target::resolve(out)?;
    fs::create_dir_all(&target.parent).map_err(WriteError::at(&target.parent))?;
    let _lock = lock::lock(&target.parent)?;
    target.recover()?;
    let carried = target.inspect_old(files)?;

    let staging = tempfile::Builder::new()
        .prefix(&target.temp_prefix())
        .tempdir_in(&target.parent)
        .map_err(WriteError::at(&target.parent))?;
    let staged = staging.path().to_path_buf();
    for (name, bytes) in files {
        write_new(&staged.join(name), bytes)?;
        fault::step(name);
    }
    for name in &carried {
        let from = target.path.join(name);
        fs::hard_link(&from, staged.join(name)).map_err(WriteError::at(&from))?;
    }
    let mode = permissions_of(&target.path).unwrap_or(0o755);
    fs::set_permissions(&staged, fs::Permissions::from_mode(mode))
        .map_err(WriteError::at(&staged))?;
    fs::File::open(&staged)
        .and_then(|d| d.sync_all())
        .map_err(WriteError::at(&staged))?;
    fault::step("staged");

    if target.path.exists() {
        target.exchange(&staged)?;
        fault::step("exchanged");
        // `staging` now names the old report; dropping it deletes it. A failure to delete
        // leaves a `.NAME.tmp-*` directory that the next run removes.
        drop(staging);
    } else {
        let staged = staging.keep();
        fs::rename(&staged, &target.path).map_err(WriteError::at(&target.path))?;
    }
    sync_dir(&target.parent);
    fault::step("done");
    Ok(())
}

/// Creates `path`, which must not exist, with `bytes`, and syncs it.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .map_err(WriteError::at(path))
}

/// The destination split into its parent directory and name.
struct Target {
    path: PathBuf,
    parent: PathBuf,
    name: String,
}

impl Target {
    /// Splits `out`; a symlink given as `--out` is the user's choice and is followed, so the
    /// new report appears where it points and the link stays.
    fn resolve(out: &Path) -> Result<Target, WriteError> {
        let path = match fs::symlink_metadata(out) {
            Ok(m) if m.file_type().is_symlink() => {
                fs::canonicalize(out).map_err(WriteError::at(out))?
            }
            _ => out.to_path_buf(),
        };
        let refused = |reason: &str| WriteError::Refused {
            path: out.to_path_buf(),
            reason: reason.to_string(),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| refused("it has no directory name (e.g. `.` or `..`)"))?;
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match fs::symlink_metadata(&path) {
            Ok(m) if !m.is_dir() => Err(refused("it exists and is not a directory")),
            _ => Ok(Target { path, parent, name }),
        }
    }

    fn temp_prefix(&self) -> String {
        format!(".{}.tmp-", self.name)
    }

    fn aside_prefix(&self) -> String {
        format!(".{}.old-", self.name)
    }

    /// Step 3: clean up after a killed run. Holding the lock, every temporary directory of
    /// this destination is stale.
    fn recover(&self) -> Result<(), WriteError> {
        let entries = fs::read_dir(&self.parent).map_err(WriteError::at(&self.parent))?;
        let (temp, aside) = (self.temp_prefix(), self.aside_prefix());
        let mut set_aside = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&temp) {
                remove_any(&entry.path())?;
            } else if name.starts_with(&aside) {
                set_aside.push(entry.path());
            }
        }
        set_aside.sort();
        for old in set_aside {
            if !self.path.exists() {
                // The fallback switch died between its two renames: the old report is whole.
                fs::rename(&old, &self.path).map_err(WriteError::at(&old))?;
            } else {
                remove_any(&old)?;
            }
        }
        Ok(())
    }

    /// Step 1: what the old directory holds. Returns the names of the entries to carry over.
    fn inspect_old(&self, files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<String>, WriteError> {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return Ok(Vec::new());
        };
        let mut carried = Vec::new();
        for entry in entries {
            let entry = entry.map_err(WriteError::at(&self.path))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(WriteError::at(&path))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                let reason = if files.contains_key(&name) {
                    "the report writes a file of that name"
                } else {
                    "it is a directory the report does not write; move it out of the \
                     output directory"
                };
                return Err(WriteError::Refused {
                    path,
                    reason: reason.to_string(),
                });
            }
            if !files.contains_key(&name) {
                carried.push(name);
            }
        }
        carried.sort();
        Ok(carried)
    }

    /// Step 5: puts `staged` at the destination and the old report at `staged`.
    fn exchange(&self, staged: &Path) -> Result<(), WriteError> {
        match exchange_dirs(staged, &self.path) {
            Ok(()) => Ok(()),
            Err(e) if exchange_unsupported(&e) => {
                let aside = tempfile::Builder::new()
                    .prefix(&self.aside_prefix())
                    .tempdir_in(&self.parent)
                    .map_err(WriteError::at(&self.parent))?
                    .keep();
                fs::rename(&self.path, &aside).map_err(WriteError::at(&self.path))?;
                fault::step("set aside");
                fs::rename(staged, &self.path).map_err(WriteError::at(&self.path))?;
                // The old report goes where `staged` was, so the caller deletes it the same way.
                fs::rename(&aside, staged).map_err(WriteError::at(&aside))
            }
            Err(source) => Err(WriteError::Io {
                path: self.path.clone(),
                source,
            }),
        }
    }
}

#[cfg(target_os = "linux")]
fn exchange_dirs(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange_dirs(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Whether an exchange failed because the system or file system cannot do it.
fn exchange_unsupported(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported
        || matches!(e.raw_os_error(), Some(code) if code == rustix::io::Errno::INVAL.raw_os_error()
            || code == rustix::io::Errno::NOSYS.raw_os_error())
}

/// Removes a file, a symlink (not its target) or a directory tree.
fn remove_any(path: &Path) -> Result<(), WriteError> {
    let is_dir = fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    if is_dir {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
    .map_err(WriteError::at(path))
}
