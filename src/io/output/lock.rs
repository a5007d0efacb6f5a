//! The advisory lock that serialises writers of one output directory: an exclusive `flock`
//! on the directory that contains it (held until dropped). Locking the parent rather than a
//! lock file leaves nothing behind and cannot be redirected by a planted symlink; a second
//! run on the same `--out` waits for the first to finish and then writes its own report.

use std::fs::File;
use std::path::Path;

use super::WriteError;

/// Holds the lock while alive.
#[derive(Debug)]
pub struct DirLock {
    _dir: File,
}

/// Takes the exclusive lock on `dir`, waiting for any other holder.
pub fn lock(dir: &Path) -> Result<DirLock, WriteError> {
    let handle = File::open(dir).map_err(WriteError::at(dir))?;
    handle.lock().map_err(WriteError::at(dir))?;
    Ok(DirLock { _dir: handle })
}
