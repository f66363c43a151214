//! Leftovers of runs that were killed (SIGKILL, a power cut): temporary files and folders that
//! only soiree-pack names the way it does, removed by a later run once no process holds them.
//!
//! A temporary *file* is locked by the process writing it ([`locked_temp_file`]), so any run can
//! tell a leftover (lock free) from one being written (lock held). Temporary *folders* belong to
//! a run that holds a [`crate::Lock`] for them; only the next holder of that lock removes them.

use std::fs::TryLockError;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Creates a temp file in `dir` named `PREFIX…SUFFIX` and holds a lock on it until it is dropped
/// or persisted, so that [`remove_unheld_files`] never removes it while it is written.
pub fn locked_temp_file(dir: &Path, prefix: &str, suffix: &str) -> std::io::Result<tempfile::NamedTempFile> {
    loop {
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .suffix(suffix)
            .tempfile_in(dir)?;
        tmp.as_file().lock()?;
        // Between creating and locking, another run's cleanup may have taken the free lock and
        // removed the name: then this file is unreachable, and a new one is made.
        let ours = tmp.as_file().metadata()?;
        match std::fs::symlink_metadata(tmp.path()) {
            Ok(m) if m.ino() == ours.ino() && m.dev() == ours.dev() => return Ok(tmp),
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Removes the regular files in `dir` whose names `is_ours` accepts and that no process holds
/// locked; returns what was removed. Files being written by a running process stay.
pub fn remove_unheld_files(dir: &Path, is_ours: impl Fn(&str) -> bool) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for path in matching(dir, &is_ours)? {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        // Opened for reading only, without following links or blocking: this never changes it.
        let Ok(file) = open_nofollow(&path) else { continue };
        match file.try_lock() {
            Ok(()) => {
                let same = file
                    .metadata()
                    .is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev());
                if same && std::fs::remove_file(&path).is_ok() {
                    removed.push(path);
                }
            }
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
    Ok(removed)
}

/// Removes everything in `dir` whose name `is_ours` accepts, files and folders. Only for a caller
/// that holds the lock under which such names are made, so that none of them is in use.
pub fn remove_leftovers(dir: &Path, is_ours: impl Fn(&str) -> bool) -> std::io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for path in matching(dir, &is_ours)? {
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
        removed.push(path);
    }
    Ok(removed)
}

fn matching(dir: &Path, is_ours: &impl Fn(&str) -> bool) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for e in entries {
        let e = e?;
        if let Some(name) = e.file_name().to_str() {
            if is_ours(name) {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn open_nofollow(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
}
