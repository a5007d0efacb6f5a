//! Writing results so that nothing is lost or half-written, and checking committed output for
//! drift.
//!
//! - [`replace_dir`] ([`switch`]): the report directory changes as a whole or not at all. The
//!   files are written into a fresh private directory next to `--out` and the two directories
//!   are exchanged in one atomic rename; concurrent writers serialise on a lock.
//! - [`write_file`] ([`file`]): one file (e.g. bootstrap replicates) replaced atomically.
//! - [`check`]: the `--check` comparison.

mod fault;
mod file;
mod lock;
mod switch;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

pub use file::write_file;
pub use switch::replace_dir;

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

/// Why the output could not be written. Nothing at the destination has changed when this is
/// returned (see [`replace_dir`] for the one exception, a failure to delete the old copy).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An operating-system call failed on `path`.
    #[error("could not write {path}: {source}")]
    Io {
        /// The path the failing call used.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The destination is not something the writer may replace (a file where a directory is
    /// needed, a directory the report does not own inside it). The user's to fix: exit 2.
    #[error("will not replace {path}: {reason}")]
    Refused {
        /// The offending path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl WriteError {
    /// A closure mapping an I/O error on `path` to a [`WriteError::Io`].
    pub(crate) fn at(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
        move |source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The exit code: 2 for a refused destination (a usage error), 1 for a failed write.
    pub fn exit_code(&self) -> u8 {
        match self {
            WriteError::Refused { .. } => 2,
            WriteError::Io { .. } => 1,
        }
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
