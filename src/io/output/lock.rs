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
    // rustix's flock rather than `File::lock`, which needs Rust 1.89 (the MSRV is 1.85).
    rustix::fs::flock(&handle, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| WriteError::at(dir)(e.into()))?;
    Ok(DirLock { _dir: handle })
}
