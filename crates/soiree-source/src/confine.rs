//! Resolving a path the way the kernel would, but inside a root directory and without ever
//! leaving it: symlinks found on the way are expanded by hand, and `..` above the root or an
//! absolute target counts as an escape rather than being followed.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Linux gives up after 40 symlinks in one lookup; so do we.
const MAX_HOPS: u32 = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Confined {
    /// The real location, relative to the root (it may not exist).
    Inside(PathBuf),
    /// Why it would leave the root.
    Escapes(String),
}

/// Resolves `path`, taken relative to the directory `start` (itself relative to `root` and free of
/// symlinks), inside `root`. The last component is followed only when `follow_last` is set.
pub(crate) fn resolve(root: &Path, start: &Path, path: &Path, follow_last: bool) -> io::Result<Confined> {
    if path.has_root() {
        return Ok(Confined::Escapes(format!(
            "{} is an absolute path",
            path.display()
        )));
    }
    let mut at: Vec<OsString> = start.iter().map(OsString::from).collect();
    let mut pending: VecDeque<OsString> = path.iter().map(OsString::from).collect();
    let mut hops = 0;
    while let Some(part) = pending.pop_front() {
        if part == "." {
            continue;
        }
        if part == ".." {
            if at.pop().is_none() {
                return Ok(Confined::Escapes(format!(
                    "{} leads above the top directory",
                    path.display()
                )));
            }
            continue;
        }
        at.push(part);
        if pending.is_empty() && !follow_last {
            continue;
        }
        // Missing components are looked at too: a later `..` may climb back onto real ones, and
        // the missing ones may be created later in the same archive.
        let here: PathBuf = at.iter().collect();
        let is_link = match std::fs::symlink_metadata(root.join(&here)) {
            Ok(meta) => meta.file_type().is_symlink(),
            Err(e) if matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => false,
            Err(e) => return Err(e),
        };
        if !is_link {
            continue;
        }
        hops += 1;
        if hops > MAX_HOPS {
            return Ok(Confined::Escapes(format!(
                "{} does not resolve (a symlink loop)",
                path.display()
            )));
        }
        let target = std::fs::read_link(root.join(&here))?;
        if target.has_root() {
            return Ok(Confined::Escapes(format!(
                "{} passes through {}, which points to the absolute path {}",
                path.display(),
                here.display(),
                target.display()
            )));
        }
        at.pop();
        for part in target.iter().rev() {
            pending.push_front(part.to_os_string());
        }
    }
    Ok(Confined::Inside(at.iter().collect()))
}

/// Splits a `/`-separated relative path into clean components: `.` and empty parts dropped;
/// `None` when a part is `..` or the path is absolute.
pub(crate) fn clean_relative(path: &[u8]) -> Option<Vec<OsString>> {
    if path.first() == Some(&b'/') {
        return None;
    }
    let mut parts = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return None,
            name => parts.push(OsString::from(std::ffi::OsStr::from_bytes(name))),
        }
    }
    Some(parts)
}
