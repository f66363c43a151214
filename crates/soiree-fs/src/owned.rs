//! Output folders soiree-pack may replace because it made them: each holds a manifest of every
//! entry soiree-pack wrote, and a folder holding anything else (or no manifest) is the user's.
//!
//! Also the switch that puts several new outputs in place together: either every one of them
//! replaces its old version, or, when one rename fails, the old versions are all put back.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// The manifest's file name inside an output folder.
pub const MARKER: &str = ".soiree-pack-output";

const HEADER: &str = "# Written by soiree-pack: every path below is one it made. It replaces this folder\n\
# only while the folder holds nothing else; remove this file to keep the folder from it.\n";

/// Why a folder may not be replaced.
#[derive(Debug)]
pub enum OwnershipError {
    /// The path exists and is not a folder soiree-pack made (no manifest, or not a folder).
    NotOurs {
        path: PathBuf,
    },
    /// A folder soiree-pack made holds an entry it did not write.
    Foreign {
        path: PathBuf,
        entry: PathBuf,
    },
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl std::fmt::Display for OwnershipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OwnershipError::NotOurs { path } => write!(
                f,
                "{} exists and soiree-pack did not make it (it has no {MARKER})",
                path.display()
            ),
            OwnershipError::Foreign { path, entry } => write!(
                f,
                "{} holds {}, which soiree-pack did not write",
                path.display(),
                entry.display()
            ),
            OwnershipError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for OwnershipError {}

impl OwnershipError {
    pub fn is_io(&self) -> bool {
        matches!(self, OwnershipError::Io { .. })
    }
}

/// A folder soiree-pack is filling, which becomes replaceable once [`OwnedDir::mark`] lists it.
pub struct OwnedDir;

impl OwnedDir {
    /// Records every entry now under `dir` as soiree-pack's (call it last, when the folder is
    /// complete). The manifest is itself written beside-then-renamed.
    pub fn mark(dir: &Path) -> std::io::Result<()> {
        let entries = entries(dir)?;
        let mut text = HEADER.as_bytes().to_vec();
        for e in &entries {
            // Names are written raw, one per line; a name holding a newline cannot be listed, so
            // the folder would later be refused, never wrongly replaced.
            text.extend_from_slice(e.as_os_str().as_bytes());
            text.push(b'\n');
        }
        let tmp = dir.join(format!("{MARKER}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(MARKER))
    }

    /// Checks that `path` may be replaced: it does not exist, or it is a folder with a manifest
    /// that lists everything in it.
    pub fn check_replaceable(path: &Path) -> Result<(), OwnershipError> {
        let io = |source| OwnershipError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(e)),
        };
        if !meta.is_dir() {
            return Err(OwnershipError::NotOurs {
                path: path.to_path_buf(),
            });
        }
        let listed = match std::fs::read(path.join(MARKER)) {
            Ok(bytes) => bytes
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
                .map(|l| PathBuf::from(OsString::from_vec(l.to_vec())))
                .collect::<BTreeSet<_>>(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OwnershipError::NotOurs {
                    path: path.to_path_buf(),
                })
            }
            Err(e) => return Err(io(e)),
        };
        for entry in entries(path).map_err(io)? {
            if entry.as_os_str() != MARKER && !listed.contains(&entry) {
                return Err(OwnershipError::Foreign {
                    path: path.to_path_buf(),
                    entry,
                });
            }
        }
        Ok(())
    }
}

/// Every entry under `dir`, relative to it, sorted; the manifest itself left out. Symlinks are
/// entries, never followed.
fn entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(dir.join(&rel))? {
            let e = e?;
            let name = rel.join(e.file_name());
            let top = rel.as_os_str().is_empty();
            if top && (e.file_name() == MARKER || e.file_name() == *format!("{MARKER}.tmp")) {
                continue;
            }
            if e.file_type()?.is_dir() {
                stack.push(name.clone());
            }
            out.push(name);
        }
    }
    out.sort();
    Ok(out)
}

/// Puts each `(new, target)` in place together. Old targets are first kept aside (folders
/// renamed, files hard-linked: neither needs free space); if any rename fails, the targets
/// already switched are put back and the error returned, so every target is either all new or
/// all old. Folders kept aside are removed afterwards.
pub fn replace_together(items: &[(PathBuf, PathBuf)]) -> std::io::Result<()> {
    let mut aside: Vec<(PathBuf, PathBuf)> = Vec::new();
    let undo_aside = |aside: &[(PathBuf, PathBuf)]| {
        for (target, kept) in aside.iter().rev() {
            let _ = std::fs::rename(kept, target);
        }
    };
    for (_, target) in items {
        let meta = match std::fs::symlink_metadata(target) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                undo_aside(&aside);
                return Err(e);
            }
        };
        let kept = aside_name(target);
        let kept_it = if meta.is_dir() {
            std::fs::rename(target, &kept)
        } else {
            std::fs::hard_link(target, &kept)
        };
        if let Err(e) = kept_it {
            undo_aside(&aside);
            return Err(e);
        }
        aside.push((target.clone(), kept));
    }
    for (done, (new, target)) in items.iter().enumerate() {
        if let Err(e) = std::fs::rename(new, target) {
            // Put the new outputs back where they were and the old ones where they belong.
            for (new, target) in items[..done].iter().rev() {
                let _ = std::fs::rename(target, new);
            }
            undo_aside(&aside);
            return Err(e);
        }
    }
    // What cannot be removed is a leftover the next run's cleanup removes; the switch is done.
    for (_, kept) in aside {
        let _ = if kept.is_dir() {
            std::fs::remove_dir_all(&kept)
        } else {
            std::fs::remove_file(&kept)
        };
    }
    Ok(())
}

/// `DIR/.NAME.old-PID`: where an old output waits during a switch (see [`crate::stale`]).
fn aside_name(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.old-{}", std::process::id()))
}
