//! Reading only regular files: a data, template or reference path that names a FIFO, a
//! directory, a device or a socket is an error naming the path and what it is, never a hang
//! (a FIFO without a writer blocks `open` forever) or an endless read (`/dev/zero`).
//!
//! The file is opened first, without blocking (`O_NONBLOCK`, via rustix; no effect on regular
//! files), and the check is made on the opened descriptor (`fstat`), so that a path swapped
//! between a check and the open cannot slip a FIFO in: what is read is what was checked.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// What a path names, when it is not a regular file.
fn kind(metadata: &Metadata) -> Option<&'static str> {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Opens `path` for reading if, once opened, it is a regular file. The error for anything
/// else has kind [`io::ErrorKind::InvalidInput`] and says what the path names.
/// (The message does not repeat the path: every caller's error names it.)
pub fn open_regular(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(path)?;
    match kind(&file.metadata()?) {
        None => Ok(file),
        Some(what) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {what}, not a regular file"),
        )),
    }
}

/// The bytes of the regular file `path` (see [`open_regular`]).
pub fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The text of the regular file `path` (see [`open_regular`]); invalid UTF-8 is an error.
pub fn read_regular_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read_regular(path)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_opened() {
        let dir = std::env::temp_dir().join(format!("lmm-regular-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.csv");
        std::fs::write(&file, "x\n1\n").unwrap();
        assert_eq!(read_regular(&file).unwrap(), b"x\n1\n");
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        for (path, what) in [
            (fifo.as_path(), "a FIFO (named pipe)"),
            (dir.as_path(), "a directory"),
            (Path::new("/dev/zero"), "a character device"),
        ] {
            let err = read_regular(path).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains(what), "{err}");
        }
        let err = read_regular(&dir.join("missing")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
