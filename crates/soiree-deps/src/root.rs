//! Paths inside a root directory (`/`, a debootstrap tree, an exported container filesystem).
//!
//! Every path is resolved the way the kernel would inside a chroot at the root: one component at
//! a time, following symlinks, with absolute targets and `..` starting over at the root and never
//! leaving it. The symlinks passed on the way are recorded, because the package needs them too:
//! the loader opens `/lib/x86_64-linux-gnu/libc.so.6`, and on a merged-/usr system that opens
//! only if `/lib → usr/lib` is in the package beside the real file.
//!
//! With the package's own files as a layer above the root ([`Root::with_package`]) paths are
//! resolved in the merged view the grain will have once the closure is added: what the package
//! has at a path wins; anything else is looked up in the root, inside the root directory that the
//! path's parent stands for there (following the root's own symlinks, confined to the root).

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};
use std::fs::Metadata;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use soiree_types::Dir;

use crate::layer::{self, Content, Layer, Stat};

/// Linux gives up after 40 symlinks in one lookup (ELOOP).
const MAX_SYMLINKS: usize = 40;

type DirCache = RefCell<HashMap<PathBuf, Result<Resolved, Miss>>>;

/// A root directory on the host that in-root absolute paths are resolved against, with the
/// package's own files above it if given.
#[derive(Debug)]
pub struct Root {
    host: PathBuf,
    package: Option<Arc<Dir>>,
    /// Directories already resolved, per view: their real path and the symlinks on the way.
    /// Lookups repeat the same few directories many times.
    dirs: [DirCache; 2],
}

/// Which files a lookup sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    /// The package above the root (the root alone when there is no package layer).
    Merged = 0,
    /// The root alone: where a path of the merged view is on this machine.
    RootOnly = 1,
}

/// A symlink passed while resolving a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Where the symlink is, inside the root (its parent has no symlinks in it).
    pub link: PathBuf,
    /// What it points to, exactly as stored.
    pub target: PathBuf,
    pub mtime_ns: i64,
    /// The package's own symlink, or the root's.
    pub layer: Layer,
    /// Where the root's symlink is on this machine; empty for the package's own.
    pub host: PathBuf,
}

/// An in-root path after following every symlink.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The real path inside the root, without symlinks, `.` or `..`.
    pub real: PathBuf,
    /// The symlinks passed, in order.
    pub hops: Vec<Hop>,
    /// `lstat` of the real path (or what the package tree says of it).
    pub meta: Stat,
    /// Whether the package itself holds it.
    pub layer: Layer,
    /// Where its bytes are read from.
    pub content: Content,
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

/// One component looked up in one view.
struct Looked {
    stat: Stat,
    layer: Layer,
    content: Content,
    /// A symlink's target.
    target: Option<PathBuf>,
    /// Where the root's entry is on this machine; empty for the package's.
    host: PathBuf,
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
            package: None,
            dirs: Default::default(),
        }
    }

    /// A root with the package's own files above it: they win over the root's.
    pub fn with_package(host: impl Into<PathBuf>, package: Option<Arc<Dir>>) -> Root {
        Root {
            package,
            ..Root::new(host)
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
        self.resolve_in(path, View::Merged)
    }

    /// The bytes of a resolved file.
    pub fn read(&self, resolved: &Resolved) -> std::io::Result<Vec<u8>> {
        match &resolved.content {
            Content::Host(path) => std::fs::read(path),
            Content::Bytes(bytes) => Ok(bytes.to_vec()),
            Content::InPackage => Err(std::io::Error::other("a directory, not a file")),
        }
    }

    /// The names in a resolved directory: the package's and the root's, sorted.
    pub fn list(&self, dir: &Resolved) -> Vec<OsString> {
        let mut names = BTreeSet::new();
        let host = match &self.package {
            None => Some(self.host_path(&dir.real)),
            Some(tree) => {
                names.extend(
                    layer::package_names(tree, &dir.real)
                        .into_iter()
                        .map(OsString::from_vec),
                );
                self.resolve_in(&dir.real, View::RootOnly)
                    .ok()
                    .filter(|r| r.meta.is_dir())
                    .map(|r| self.host_path(&r.real))
            }
        };
        if let Some(Ok(listing)) = host.map(std::fs::read_dir) {
            names.extend(listing.filter_map(|e| e.ok()).map(|e| e.file_name()));
        }
        names.into_iter().collect()
    }

    fn resolve_in(&self, path: &Path, view: View) -> Result<Resolved, Miss> {
        let (parent, name) = match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) if !path.as_os_str().as_bytes().ends_with(b"/") => (parent, name),
            _ => return self.resolve_uncached(path, view),
        };
        let dir = self.resolve_dir(parent, view)?;
        if !dir.meta.is_dir() {
            return Err(Miss::Missing(path.to_path_buf()));
        }
        let mut hops = dir.hops.clone();
        let (real, found) = self.walk(dir.real.clone(), &[(name.to_os_string(), None)], &mut hops, view)?;
        Ok(resolved(real, hops, found))
    }

    fn resolve_dir(&self, dir: &Path, view: View) -> Result<Resolved, Miss> {
        let cache = &self.dirs[view as usize];
        if let Some(hit) = cache.borrow().get(dir) {
            return hit.clone();
        }
        let result = self.resolve_uncached(dir, view);
        cache.borrow_mut().insert(dir.to_path_buf(), result.clone());
        result
    }

    fn resolve_uncached(&self, path: &Path, view: View) -> Result<Resolved, Miss> {
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
        let (real, found) = self.walk(PathBuf::from("/"), &parts, &mut hops, view)?;
        Ok(resolved(real, hops, found))
    }

    /// What is at a real (symlink-free) path of the view, without following a final symlink;
    /// `None` if nothing is.
    fn lookup(&self, path: &Path, view: View) -> Result<Option<Looked>, Miss> {
        if view == View::Merged {
            if let Some(found) = self
                .package
                .as_deref()
                .and_then(|t| layer::package_entry(t, path))
            {
                return Ok(Some(Looked {
                    stat: found.stat,
                    layer: Layer::Package,
                    content: found.content,
                    target: found.target,
                    host: PathBuf::new(),
                }));
            }
        }
        let Some(host) = self.host_location(path, view)? else {
            return Ok(None);
        };
        let meta = match std::fs::symlink_metadata(&host) {
            Ok(m) => m,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(Miss::Io(host, e.kind(), e.to_string())),
        };
        let target = if meta.file_type().is_symlink() {
            Some(std::fs::read_link(&host).map_err(|e| Miss::Io(host.clone(), e.kind(), e.to_string()))?)
        } else {
            None
        };
        Ok(Some(Looked {
            stat: Stat::from_meta(&meta),
            layer: Layer::Root,
            content: Content::Host(host.clone()),
            target,
            host,
        }))
    }

    /// Where a real path of the view is on this machine. In the root's own view that is the
    /// path under the root. In the merged view its parent may be a directory of the package
    /// where the root has a symlink (`/bin` beside the root's `/bin → usr/bin`), so the parent
    /// is resolved in the root first; `None` when the root has no such directory.
    fn host_location(&self, path: &Path, view: View) -> Result<Option<PathBuf>, Miss> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Ok(Some(self.host.clone()));
        };
        if view == View::RootOnly || self.package.is_none() {
            return Ok(Some(self.host_path(path)));
        }
        match self.resolve_dir(parent, View::RootOnly) {
            Ok(dir) if dir.meta.is_dir() => Ok(Some(self.host_path(&dir.real).join(name))),
            Err(Miss::Io(host, kind, message)) => Err(Miss::Io(host, kind, message)),
            _ => Ok(None),
        }
    }

    /// Walks `parts` from `start` (a real directory). Each part carries the index of the hop whose
    /// target it came from, so that a missing part can be blamed on the symlink that named it.
    fn walk(
        &self,
        start: PathBuf,
        parts: &[(OsString, Option<usize>)],
        hops: &mut Vec<Hop>,
        view: View,
    ) -> Result<(PathBuf, Looked), Miss> {
        let mut real = start;
        let mut pending: Vec<(OsString, Option<usize>)> = parts.iter().rev().cloned().collect();
        let mut last = None;
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
                    last = None;
                    continue;
                }
                _ => {}
            }
            let candidate = real.join(&name);
            let Some(found) = self.lookup(&candidate, view)? else {
                return Err(missing(candidate, from, hops));
            };
            if let Some(target) = &found.target {
                followed += 1;
                if followed > MAX_SYMLINKS {
                    return Err(Miss::Loop(candidate));
                }
                hops.push(Hop {
                    link: candidate,
                    target: target.clone(),
                    mtime_ns: found.stat.mtime_ns,
                    layer: found.layer,
                    host: found.host.clone(),
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
                last = None;
                continue;
            }
            if !found.stat.is_dir() && pending.iter().any(|(p, _)| !p.is_empty() && p != ".") {
                return Err(missing(candidate, from, hops));
            }
            real = candidate;
            last = Some(found);
        }
        let last = match last {
            Some(found) => found,
            None => self
                .lookup(&real, view)?
                .ok_or_else(|| Miss::Missing(real.clone()))?,
        };
        Ok((real, last))
    }
}

fn resolved(real: PathBuf, hops: Vec<Hop>, found: Looked) -> Resolved {
    Resolved {
        real,
        hops,
        meta: found.stat,
        layer: found.layer,
        content: found.content,
    }
}
