//! The source cache's entries, known by its own naming (downloads, unpacked archives, command
//! outputs and their logs, and leftovers of killed runs): their sizes and last use for
//! `cache info` and `cache clean`, and their removal under the exclusive lock.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cache::{Cache, IN_USE_LOCK};
use crate::error::{Error, Result};

/// What an entry of the source cache holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CachedKind {
    /// `sha256/<hex>`: a download, by its digest.
    Download,
    /// `extracted/v1/<hex>-<format>-strip<n>`: an archive, unpacked.
    Extracted,
    /// `built/v1/<key>`: a command source's output.
    Built,
    /// `built/logs/<source>.log`: the output of a command that failed.
    Log,
    /// A download, extraction or build a killed run left half done (`.download-*`,
    /// `.extract-*`, `built/tmp/*`, `built/v1/<key>.old`): never used, removed by every clean.
    Leftover,
}

impl CachedKind {
    pub const ALL: [CachedKind; 5] = [
        CachedKind::Download,
        CachedKind::Extracted,
        CachedKind::Built,
        CachedKind::Log,
        CachedKind::Leftover,
    ];

    pub fn plural(self) -> &'static str {
        match self {
            CachedKind::Download => "downloads",
            CachedKind::Extracted => "extracted archives",
            CachedKind::Built => "command outputs",
            CachedKind::Log => "logs",
            CachedKind::Leftover => "leftovers",
        }
    }
}

/// One entry: a file or a folder directly under one of the cache's folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedEntry {
    pub kind: CachedKind,
    pub path: PathBuf,
    /// Bytes of its regular files (a folder's symlinks count their own size, never followed).
    pub size: u64,
    /// Its mtime, which a build refreshes when it uses the entry.
    pub used: SystemTime,
}

fn is_hex64(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `<hex>-<format>-strip<n>`, as [`Cache::extracted_path`] names them.
fn is_extracted_name(name: &str) -> bool {
    let Some((hex, rest)) = name.split_at_checked(64) else {
        return false;
    };
    let Some((format, strip)) = rest.strip_prefix('-').and_then(|r| r.rsplit_once("-strip")) else {
        return false;
    };
    is_hex64(hex) && !format.is_empty() && !strip.is_empty() && strip.bytes().all(|b| b.is_ascii_digit())
}

/// Which kind a name in `folder` (relative to the root) is, given whether it is a folder; `None`
/// for anything the cache's naming does not explain, which is left alone.
fn classify(folder: &str, name: &str, is_dir: bool) -> Option<CachedKind> {
    match (folder, is_dir) {
        ("sha256", false) if is_hex64(name) => Some(CachedKind::Download),
        ("sha256", false) if name.starts_with(".download-") => Some(CachedKind::Leftover),
        ("extracted/v1", true) if is_extracted_name(name) => Some(CachedKind::Extracted),
        ("extracted/v1", true) if name.starts_with(".extract-") => Some(CachedKind::Leftover),
        ("built/v1", true) if is_hex64(name) => Some(CachedKind::Built),
        ("built/v1", true) if name.strip_suffix(".old").is_some_and(is_hex64) => Some(CachedKind::Leftover),
        ("built/logs", false) if name.ends_with(".log") => Some(CachedKind::Log),
        ("built/tmp", true) => Some(CachedKind::Leftover),
        _ => None,
    }
}

const FOLDERS: [&str; 5] = ["sha256", "extracted/v1", "built/v1", "built/logs", "built/tmp"];

/// Bytes under `path`, symlinks not followed; what vanishes meanwhile counts nothing.
fn size_of(path: &Path) -> u64 {
    walkdir::WalkDir::new(path)
        .follow_links(false)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_type().is_dir())
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Gives the owner write permission on every folder under `dir` (symlinks not followed), so
/// that it can be removed: an archive or a build may leave read-only folders.
pub(crate) fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .flatten()
    {
        if entry.file_type().is_dir() {
            if let Ok(meta) = entry.metadata() {
                let mode = meta.permissions().mode();
                if mode & 0o700 != 0o700 {
                    let _ =
                        std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode | 0o700));
                }
            }
        }
    }
}

impl Cache {
    /// Every entry the cache's naming explains, in path order. Symlinks are never entries, and
    /// names it does not explain are not listed (so never removed).
    pub fn entries(&self) -> Result<Vec<CachedEntry>> {
        let mut found = Vec::new();
        for folder in FOLDERS {
            let dir = self.root().join(folder);
            let items = match std::fs::read_dir(&dir) {
                Ok(items) => items,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(&dir)(e)),
            };
            for item in items {
                let item = item.map_err(Error::io(&dir))?;
                let path = item.path();
                let meta = match std::fs::symlink_metadata(&path) {
                    Ok(m) => m,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io(&path)(e)),
                };
                if !(meta.is_dir() || meta.is_file()) {
                    continue;
                }
                let Some(kind) = item
                    .file_name()
                    .to_str()
                    .and_then(|name| classify(folder, name, meta.is_dir()))
                else {
                    continue;
                };
                let size = if meta.is_dir() { size_of(&path) } else { meta.len() };
                found.push(CachedEntry {
                    kind,
                    path,
                    size,
                    used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    /// Takes the cache for cleaning: exclusively, or fails at once naming the build that reads
    /// it. Nothing is created when the cache does not exist (`None`: nothing to clean).
    pub fn lock_for_cleaning(&self) -> std::result::Result<Option<soiree_fs::Lock>, soiree_fs::LockError> {
        if !self.root().is_dir() {
            return Ok(None);
        }
        soiree_fs::Lock::try_acquire(&self.root().join(IN_USE_LOCK), "soiree-pack cache clean").map(Some)
    }

    /// Removes `entry` (listed by [`Cache::entries`]; hold [`Cache::lock_for_cleaning`]). A folder
    /// goes with everything in it, symlinks removed and never followed.
    pub fn remove_entry(&self, entry: &CachedEntry) -> Result<()> {
        let path = &entry.path;
        if !path.starts_with(self.root()) {
            return Err(Error::io(path)(std::io::Error::other("not in the source cache")));
        }
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(path)(e)),
        };
        let removed = if meta.is_dir() {
            std::fs::remove_dir_all(path).or_else(|e| {
                if e.kind() != std::io::ErrorKind::PermissionDenied {
                    return Err(e);
                }
                make_writable(path);
                std::fs::remove_dir_all(path)
            })
        } else {
            std::fs::remove_file(path)
        };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path)(e)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_cache_does_not_make_are_not_its_entries() {
        let hex = "ab".repeat(32);
        assert_eq!(classify("sha256", &hex, false), Some(CachedKind::Download));
        assert_eq!(classify("sha256", &hex, true), None);
        assert_eq!(classify("sha256", "notes.txt", false), None);
        assert_eq!(
            classify("extracted/v1", &format!("{hex}-tar.gz-strip1"), true),
            Some(CachedKind::Extracted)
        );
        assert_eq!(
            classify("extracted/v1", &format!("{hex}-tar.gz-stripx"), true),
            None
        );
        assert_eq!(classify("extracted/v1", "mine", true), None);
        assert_eq!(
            classify("built/v1", &format!("{hex}.old"), true),
            Some(CachedKind::Leftover)
        );
        assert_eq!(classify("built/logs", "app.log", false), Some(CachedKind::Log));
        assert_eq!(classify("built/logs", "app.txt", false), None);
    }
}
