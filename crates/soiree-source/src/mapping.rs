//! Selecting files from a resolved source and placing them at paths in the package.
//!
//! A mapping takes `from` (a file, symlink or directory inside the source; empty for its root)
//! to `to` (an absolute in-package path). A directory's contents go under `to`, filtered by
//! globs matched against paths relative to `from`: an entry is taken when it or a directory
//! above it matches an include (or there are no includes), and an excluded directory is skipped
//! whole. A single file goes to `to` itself, or into it when `to` ends with `/`. `from` itself is
//! followed when it is a symlink (inside the source only); symlinks inside a directory are kept
//! as symlinks, never followed.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::confine::{self, Confined};
use crate::error::{walk_error, Error, Result};
use crate::fetch::Resolved;

/// One `[[files]]` entry of a recipe, as far as sources are concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Inside the source; empty (or `.`) for the source's root.
    pub from: String,
    /// The in-package path, absolute.
    pub to: String,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Overrides the executable bit of every file the mapping places.
    pub executable: Option<bool>,
    /// Where the mapping was written (`recipe godot-server`, …); carried into origins.
    pub via: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
}

impl EntryKind {
    pub fn noun(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Dir => "directory",
            EntryKind::Symlink => "symlink",
        }
    }
}

/// Where an entry came from, for `soiree-pack why` and for conflicts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    /// The source's name.
    pub source: String,
    /// The path inside the source (empty for its root).
    pub path: PathBuf,
    /// The mapping's [`Mapping::via`].
    pub via: Option<String>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "source {:?}", self.source)?;
        if !self.path.as_os_str().is_empty() {
            write!(f, " {}", self.path.display())?;
        }
        if let Some(via) = &self.via {
            write!(f, " (mapped by {via})")?;
        }
        Ok(())
    }
}

/// A file, directory or symlink placed in the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedEntry {
    /// Absolute in-package path (`/opt/godot/server.x86_64`).
    pub path: PathBuf,
    pub kind: EntryKind,
    /// Where it is on this machine (what a file's bytes are read from when packing).
    pub host: PathBuf,
    pub executable: bool,
    /// For symlinks: the target, as stored.
    pub symlink_target: Option<PathBuf>,
    /// For files: the size in bytes.
    pub size: u64,
    pub mtime_ns: i64,
    pub origin: Origin,
}

/// The entries `mapping` places from `source`, sorted by in-package path.
pub fn map_files(source: &Resolved, mapping: &Mapping) -> Result<Vec<MappedEntry>> {
    let to = parse_target(&mapping.to)?;
    let into_dir = mapping.to.ends_with('/');
    let include = glob_set(&mapping.include)?;
    let exclude = glob_set(&mapping.exclude)?;
    let from_error = |reason: String| Error::BadFrom {
        name: source.name.clone(),
        from: mapping.from.clone(),
        reason,
    };
    let from = confine::clean_relative(mapping.from.as_bytes())
        .ok_or_else(|| from_error("must be a relative path inside the source, without `..`".into()))?;
    let from: PathBuf = from.iter().collect();
    let origin_of = |rel: &Path| Origin {
        source: source.name.clone(),
        path: source.inner.join(rel),
        via: mapping.via.clone(),
    };

    let (host, from_rel, file_name) = if source.is_dir {
        // `from` itself is followed when it is a symlink, as `cp` follows the files it is
        // named (Debian's /usr/bin/redis-server is a link to redis-check-rdb); what a
        // directory holds is copied as it is.
        let real = match confine::resolve(&source.root, Path::new(""), &from, true) {
            Ok(Confined::Inside(real)) => real,
            Ok(Confined::Escapes(why)) => return Err(from_error(format!("leaves the source: {why}"))),
            Err(e) => return Err(Error::io(source.root.join(&from))(e)),
        };
        // The package gets the name the mapping gave, not the link's target's.
        let name = from.file_name().or(real.file_name()).map(OsString::from);
        let host = if real.as_os_str().is_empty() {
            source.root.clone()
        } else {
            source.root.join(&real)
        };
        (host, from.clone(), name)
    } else if from.as_os_str().is_empty() {
        (source.root.clone(), from.clone(), source.file_name.clone())
    } else {
        return Err(from_error(format!(
            "cannot be inside the source: it is the single file {}",
            source.root.display()
        )));
    };
    let meta = std::fs::symlink_metadata(&host).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound && host != source.root.join(&from) {
            from_error(format!(
                "is a broken symlink: {} does not exist in the source",
                host.strip_prefix(&source.root).unwrap_or(&host).display()
            ))
        } else if e.kind() == std::io::ErrorKind::NotFound {
            from_error("does not exist in the source".into())
        } else {
            Error::io(&host)(e)
        }
    })?;

    if !meta.is_dir() {
        if !mapping.include.is_empty() || !mapping.exclude.is_empty() {
            return Err(from_error(
                "is a single file; include and exclude only filter directories".into(),
            ));
        }
        let path = if into_dir || to == Path::new("/") {
            let Some(name) = file_name else {
                return Err(from_error("has no file name to place it under".into()));
            };
            to.join(name)
        } else {
            to
        };
        let entry = entry_from_disk(&host, &meta, path, mapping.executable, origin_of(&from_rel))?;
        return Ok(vec![entry]);
    }

    let mut out = Vec::new();
    if mapping.include.is_empty() && to != Path::new("/") {
        out.push(entry_from_disk(
            &host,
            &meta,
            to.clone(),
            None,
            origin_of(&from_rel),
        )?);
    }
    let mut walk = walkdir::WalkDir::new(&host)
        .follow_links(false)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter();
    while let Some(item) = walk.next() {
        let item = item.map_err(|e| walk_error(&host, e))?;
        let rel = item.path().strip_prefix(&host).unwrap_or(item.path());
        let is_dir = item.file_type().is_dir();
        if exclude.is_match(rel) {
            if is_dir {
                walk.skip_current_dir();
            }
            continue;
        }
        let taken = mapping.include.is_empty()
            || rel
                .ancestors()
                .filter(|a| !a.as_os_str().is_empty())
                .any(|a| include.is_match(a));
        if !taken {
            continue;
        }
        let meta = item.metadata().map_err(|e| walk_error(&host, e))?;
        out.push(entry_from_disk(
            item.path(),
            &meta,
            to.join(rel),
            mapping.executable,
            origin_of(&from_rel.join(rel)),
        )?);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn entry_from_disk(
    host: &Path,
    meta: &std::fs::Metadata,
    path: PathBuf,
    executable: Option<bool>,
    origin: Origin,
) -> Result<MappedEntry> {
    let mtime_ns = meta
        .mtime()
        .saturating_mul(1_000_000_000)
        .saturating_add(meta.mtime_nsec());
    let ft = meta.file_type();
    let (kind, symlink_target, size, exec) = if ft.is_symlink() {
        let target = std::fs::read_link(host).map_err(Error::io(host))?;
        (EntryKind::Symlink, Some(target), 0, false)
    } else if ft.is_dir() {
        (EntryKind::Dir, None, 0, false)
    } else if ft.is_file() {
        let exec = executable.unwrap_or(meta.mode() & 0o100 != 0);
        (EntryKind::File, None, meta.len(), exec)
    } else {
        let kind = soiree_types::special_file_kind(&ft);
        return Err(Error::UnsupportedFileType {
            path: host.to_path_buf(),
            kind,
        });
    };
    Ok(MappedEntry {
        path,
        kind,
        host: host.to_path_buf(),
        executable: exec,
        symlink_target,
        size,
        mtime_ns,
        origin,
    })
}

/// Cleans an in-package path: absolute, no `.` or `..` parts, no doubled slashes.
pub fn parse_target(to: &str) -> Result<PathBuf> {
    let bad = |reason: &str| Error::BadTarget {
        to: to.to_string(),
        reason: reason.to_string(),
    };
    if !to.starts_with('/') {
        return Err(bad("it must be absolute (start with `/`)"));
    }
    if to.contains('\0') {
        return Err(bad("it holds a NUL byte"));
    }
    let parts = confine::clean_relative(to.trim_start_matches('/').as_bytes())
        .ok_or_else(|| bad("it must not contain `..`"))?;
    let mut path = PathBuf::from("/");
    path.extend(parts);
    Ok(path)
}

fn glob_set(patterns: &[String]) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        // `*` stays within one directory so `*.so` and `lib/**/*.so` mean what they look like.
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| Error::BadGlob {
                pattern: pattern.clone(),
                reason: e.kind().to_string(),
            })?;
        set.add(glob);
    }
    set.build().map_err(|e| Error::BadGlob {
        pattern: patterns.join(", "),
        reason: e.to_string(),
    })
}

/// The bytes of an in-package path's components, for [`soiree_types::Dir`].
pub(crate) fn components(path: &Path) -> Vec<&[u8]> {
    path.iter().filter(|c| *c != "/").map(|c| c.as_bytes()).collect()
}
