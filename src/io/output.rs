//! Writing the rendered files safely and checking committed output for drift.
//!
//! Writes go to a temporary file in the destination directory and are renamed into place only
//! after every file has been written, so a failure part-way leaves the previous output intact.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file whose committed content differs from what the current code renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The file is absent from the output directory.
    Missing(String),
    /// The file exists with different bytes; `first_difference` is the first differing byte
    /// offset.
    Differs {
        name: String,
        first_difference: usize,
    },
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing(name) => write!(f, "{name}: missing"),
            Drift::Differs {
                name,
                first_difference,
            } => write!(f, "{name}: differs (first at byte {first_difference})"),
        }
    }
}

/// Why the output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("could not write {path}: {source}")]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Writes every file into `dir` (created if absent) atomically per file, renaming only after
/// all temporary files are complete.
pub fn write_atomic(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(), WriteError> {
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    fs::create_dir_all(dir).map_err(fail(dir))?;
    let mut staged = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let target = dir.join(name);
        let temp = dir.join(format!(".{name}.tmp"));
        let written = fs::File::create(&temp).and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
        if let Err(source) = written {
            cleanup(&staged);
            let _ = fs::remove_file(&temp);
            return Err(WriteError { path: temp, source });
        }
        staged.push((temp, target));
    }
    for (temp, target) in &staged {
        fs::rename(temp, target).map_err(fail(target))?;
    }
    Ok(())
}

fn cleanup(staged: &[(PathBuf, PathBuf)]) {
    for (temp, _) in staged {
        let _ = fs::remove_file(temp);
    }
}

/// Compares the rendered files with those in `dir`; an empty result means no drift.
pub fn check(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> Vec<Drift> {
    files
        .iter()
        .filter_map(|(name, bytes)| match fs::read(dir.join(name)) {
            Err(_) => Some(Drift::Missing(name.clone())),
            Ok(existing) if &existing == bytes => None,
            Ok(existing) => Some(Drift::Differs {
                name: name.clone(),
                first_difference: existing
                    .iter()
                    .zip(bytes)
                    .position(|(a, b)| a != b)
                    .unwrap_or(existing.len().min(bytes.len())),
            }),
        })
        .collect()
}
