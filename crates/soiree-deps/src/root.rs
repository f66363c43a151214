//! Paths inside a root directory (`/`, a debootstrap tree, an exported container filesystem).
//!
//! Every path is resolved the way the kernel would inside a chroot at the root: one component at
//! a time, following symlinks, with absolute targets and `..` starting over at the root and never
//! leaving it. The symlinks passed on the way are recorded, because the package needs them too:
//! the loader opens `/lib/x86_64-linux-gnu/libc.so.6`, and on a merged-/usr system that opens
//! only if `/lib → usr/lib` is in the package beside the real file.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Linux gives up after 40 symlinks in one lookup (ELOOP).
const MAX_SYMLINKS: usize = 40;

/// A root directory on the host that in-root absolute paths are resolved against.
#[derive(Debug)]
pub struct Root {
    host: PathBuf,
    /// Directories already resolved: their real in-root path and the symlinks on the way.
    /// Lookups repeat the same few directories many times.
    dirs: std::cell::RefCell<HashMap<PathBuf, Result<Resolved, Miss>>>,
}

/// A symlink passed while resolving a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Where the symlink is, inside the root (its parent has no symlinks in it).
    pub link: PathBuf,
    /// What it points to, exactly as stored.
    pub target: PathBuf,
    pub mtime_ns: i64,
}

/// An in-root path after following every symlink.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The real path inside the root, without symlinks, `.` or `..`.
    pub real: PathBuf,
    /// The symlinks passed, in order.
    pub hops: Vec<Hop>,
    /// `lstat` of the real path.
    pub meta: Metadata,
}

/// Why a path did not resolve.
#[derive(Debug, Clone)]
pub enum Miss {
    /// A component does not exist, or is not a directory where one is needed.
    Missing(PathBuf),
    /// A symlink points at something that does not exist.
    Broken {
        link: PathBuf,
        target: PathBuf,
    },
    Loop(PathBuf),
    Io(PathBuf, std::io::ErrorKind, String),
}

pub fn mtime_ns(meta: &Metadata) -> i64 {
    meta.mtime()
        .saturating_mul(1_000_000_000)
        .saturating_add(meta.mtime_nsec())
}

impl Root {
    pub fn new(host: impl Into<PathBuf>) -> Root {
        Root {
            host: host.into(),
            dirs: Default::default(),
        }
    }

    pub fn host(&self) -> &Path {
        &self.host
    }

    /// The host path of an in-root path, without resolving anything.
    pub fn host_path(&self, in_root: &Path) -> PathBuf {
        let rel = in_root.strip_prefix("/").unwrap_or(in_root);
        if rel.as_os_str().is_empty() {
            self.host.clone()
        } else {
            self.host.join(rel)
        }
    }

    /// Resolves an absolute in-root path, following symlinks inside the root.
    pub fn resolve(&self, path: &Path) -> Result<Resolved, Miss> {
        let (parent, name) = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) if !path.as_os_str().as_bytes().ends_with(b"/") => (parent, name),
            _ => return self.resolve_uncached(path),
        };
        let dir = self.resolve_dir(parent)?;
        if !dir.meta.is_dir() {
            return Err(Miss::Missing(path.to_path_buf()));
        }
        let mut hops = dir.hops.clone();
        let resolved = self.walk(dir.real.clone(), &[(name.to_os_string(), None)], &mut hops)?;
        Ok(Resolved {
            real: resolved.0,
            hops,
            meta: resolved.1,
        })
    }

    fn resolve_dir(&self, dir: &Path) -> Result<Resolved, Miss> {
        if let Some(hit) = self.dirs.borrow().get(dir) {
            return hit.clone();
        }
        let result = self.resolve_uncached(dir);
        self.dirs.borrow_mut().insert(dir.to_path_buf(), result.clone());
        result
    }

    fn resolve_uncached(&self, path: &Path) -> Result<Resolved, Miss> {
        let parts: Vec<(OsString, Option<usize>)> = path
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n.to_os_string()),
                Component::ParentDir => Some(OsString::from("..")),
                _ => None,
            })
            .map(|n| (n, None))
            .collect();
        let mut hops = Vec::new();
        let (real, meta) = self.walk(PathBuf::from("/"), &parts, &mut hops)?;
        Ok(Resolved { real, hops, meta })
    }

    /// Walks `parts` from `start` (a real directory). Each part carries the index of the hop whose
    /// target it came from, so that a missing part can be blamed on the symlink that named it.
    fn walk(
        &self,
        start: PathBuf,
        parts: &[(OsString, Option<usize>)],
        hops: &mut Vec<Hop>,
    ) -> Result<(PathBuf, Metadata), Miss> {
        let mut real = start;
        let mut pending: Vec<(OsString, Option<usize>)> = parts.iter().rev().cloned().collect();
        let mut meta = None;
        let mut followed = 0;
        let missing = |at: PathBuf, from: Option<usize>, hops: &[Hop]| match from.and_then(|i| hops.get(i)) {
            Some(hop) => Miss::Broken {
                link: hop.link.clone(),
                target: hop.target.clone(),
            },
            None => Miss::Missing(at),
        };
        while let Some((name, from)) = pending.pop() {
            match name.as_bytes() {
                b"" | b"." => continue,
                b".." => {
                    real.pop();
                    meta = None;
                    continue;
                }
                _ => {}
            }
            let candidate = real.join(&name);
            let host = self.host_path(&candidate);
            let m = match std::fs::symlink_metadata(&host) {
                Ok(m) => m,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                    ) =>
                {
                    return Err(missing(candidate, from, hops))
                }
                Err(e) => return Err(Miss::Io(host, e.kind(), e.to_string())),
            };
            if m.file_type().is_symlink() {
                followed += 1;
                if followed > MAX_SYMLINKS {
                    return Err(Miss::Loop(candidate));
                }
                let target =
                    std::fs::read_link(&host).map_err(|e| Miss::Io(host.clone(), e.kind(), e.to_string()))?;
                hops.push(Hop {
                    link: candidate,
                    target: target.clone(),
                    mtime_ns: mtime_ns(&m),
                });
                let index = hops.len() - 1;
                if target.is_absolute() {
                    real = PathBuf::from("/");
                }
                let expanded: Vec<OsString> = target
                    .as_os_str()
                    .as_bytes()
                    .split(|b| *b == b'/')
                    .map(|p| OsStr::from_bytes(p).to_os_string())
                    .collect();
                pending.extend(expanded.into_iter().rev().map(|p| (p, Some(index))));
                meta = None;
                continue;
            }
            if !m.is_dir() && pending.iter().any(|(p, _)| !p.is_empty() && p != ".") {
                return Err(missing(candidate, from, hops));
            }
            real = candidate;
            meta = Some(m);
        }
        let meta = match meta {
            Some(m) => m,
            None => {
                let host = self.host_path(&real);
                std::fs::symlink_metadata(&host).map_err(|e| Miss::Io(host, e.kind(), e.to_string()))?
            }
        };
        Ok((real, meta))
    }
}
