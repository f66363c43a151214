//! Opening files that must be regular files (keyrings, cache entries) without ever blocking.
//!
//! A plain `open` of a FIFO waits for a writer, and a read of one waits for data: a FIFO put where
//! a keyring or a cache entry belongs would hang `keygen`, `keys list` and `pack` forever. So the
//! open is non-blocking (`O_NONBLOCK` has no effect on a regular file) and the type is checked on
//! the open descriptor, before the first read, so nothing can swap the file in between.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Why a file that must be regular could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    Io(std::io::Error),
    /// It exists, and is this kind of file instead (`fifo`, `directory`, …).
    NotRegular(&'static str),
}

/// Opens `path` with `options` (plus `O_NONBLOCK`), refusing anything but a regular file.
pub(crate) fn open(path: &Path, options: &mut OpenOptions) -> Result<File, OpenError> {
    let file = options
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            // Opening a directory for writing fails before any fstat could tell what it is.
            Some(libc::EISDIR) => OpenError::NotRegular("directory"),
            // A FIFO opened write-only without a reader, or a socket.
            Some(libc::ENXIO) => OpenError::NotRegular("fifo or socket"),
            _ => OpenError::Io(e),
        })?;
    let kind = file.metadata().map_err(OpenError::Io)?.file_type();
    if kind.is_file() {
        Ok(file)
    } else if kind.is_dir() {
        Err(OpenError::NotRegular("directory"))
    } else {
        Err(OpenError::NotRegular(crate::tree::special_file_kind(&kind)))
    }
}
