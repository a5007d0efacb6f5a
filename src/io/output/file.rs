//! One file replaced atomically: written to a private temporary file in the same directory
//! (an unpredictable name opened with `O_EXCL`, so a planted symlink is never followed),
//! synced, then renamed over the destination. Readers see the old file or the new one; a
//! failure or a kill leaves the old one.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::{fault, WriteError};

/// Replaces `path` with `bytes`.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if path.is_dir() {
        return Err(WriteError::Refused {
            path: path.to_path_buf(),
            reason: "it is a directory".to_string(),
        });
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempfile_in(parent)
        .map_err(WriteError::at(parent))?;
    // tempfile creates the file private (0600); the result gets the permissions of the file
    // it replaces, or the usual 0644.
    let mode = permissions_of(path).unwrap_or(0o644);
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| temp.write_all(bytes))
        .and_then(|()| temp.as_file().sync_all())
        .map_err(WriteError::at(temp.path()))?;
    fault::step("file written");
    temp.persist(path).map_err(|e| WriteError::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    sync_dir(parent);
    Ok(())
}

/// Makes a rename in `dir` durable. Best effort: some file systems refuse to sync a
/// directory, and the rename itself has already happened.
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// The permission bits of an existing `path` (not following a symlink there).
pub(super) fn permissions_of(path: &Path) -> Option<u32> {
    std::fs::symlink_metadata(path)
        .ok()
        .filter(|m| !m.file_type().is_symlink())
        .map(|m| m.permissions().mode() & 0o7777)
}
