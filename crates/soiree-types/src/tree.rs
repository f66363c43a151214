//! The tree a package is packed from: names, kinds, sizes and where each file's bytes come from.
//! It holds metadata only; file contents are read while packing, so memory does not grow with
//! package size.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::TreeError as Error;

type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file on disk, read when packing (it must still have the size recorded here).
    Path(PathBuf),
    /// Bytes made by the tool itself (the manifest, the bridge config, …).
    Bytes(Arc<[u8]>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    File {
        source: Source,
        size: u64,
        executable: bool,
    },
    Symlink {
        target: Vec<u8>,
    },
    Dir(Dir),
}

/// One entry: what it is, and its modification time in nanoseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub node: Node,
    pub mtime_ns: i64,
}

/// A directory; `BTreeMap<Vec<u8>, _>` keeps entries sorted bytewise, as Sandstorm's `spk` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dir {
    pub entries: BTreeMap<Vec<u8>, Entry>,
}

impl Entry {
    pub fn dir(mtime_ns: i64) -> Entry {
        Entry {
            node: Node::Dir(Dir::default()),
            mtime_ns,
        }
    }

    pub fn bytes(bytes: impl Into<Arc<[u8]>>, executable: bool, mtime_ns: i64) -> Entry {
        let bytes = bytes.into();
        Entry {
            node: Node::File {
                size: bytes.len() as u64,
                source: Source::Bytes(bytes),
                executable,
            },
            mtime_ns,
        }
    }

    /// Reads one directory entry from disk without following symlinks.
    pub fn from_disk(path: &Path, meta: &std::fs::Metadata) -> Result<Entry> {
        let mtime_ns = meta
            .mtime()
            .saturating_mul(1_000_000_000)
            .saturating_add(meta.mtime_nsec());
        let ft = meta.file_type();
        let node = if ft.is_symlink() {
            let target = std::fs::read_link(path).map_err(Error::io(path))?;
            Node::Symlink {
                target: target.as_os_str().as_bytes().to_vec(),
            }
        } else if ft.is_dir() {
            Node::Dir(Dir::default())
        } else if ft.is_file() {
            Node::File {
                source: Source::Path(path.to_path_buf()),
                size: meta.len(),
                executable: meta.mode() & 0o100 != 0,
            }
        } else {
            let kind = special_file_kind(&ft);
            return Err(Error::UnsupportedFileType {
                path: path.to_path_buf(),
                kind,
            });
        };
        Ok(Entry { node, mtime_ns })
    }
}

/// An archive path (bytes, `/`-separated) as text for messages.
pub fn display(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// `parent/name`, or `name` at the top.
pub fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    if parent.is_empty() {
        name.to_vec()
    } else {
        [parent, b"/", name].concat()
    }
}

/// What a file that a package cannot hold is called, for the error that refuses it.
pub fn special_file_kind(ft: &std::fs::FileType) -> &'static str {
    if ft.is_socket() {
        "socket"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_char_device() {
        "character device"
    } else {
        "special file"
    }
}

/// A path could not be placed: a component on the way (`path`, absolute) is a `kind`, not a
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotADirectory {
    pub path: String,
    pub kind: &'static str,
}

impl Dir {
    /// The directory at `parents` below this one, creating the missing ones with `mtime_ns`.
    pub fn make_dirs(&mut self, parents: &[&[u8]], mtime_ns: i64) -> Result<&mut Dir, NotADirectory> {
        let mut dir = self;
        for (depth, parent) in parents.iter().enumerate() {
            let slot = dir
                .entries
                .entry(parent.to_vec())
                .or_insert_with(|| Entry::dir(mtime_ns));
            match &mut slot.node {
                Node::Dir(d) => dir = d,
                other => {
                    let path: Vec<String> = parents[..=depth]
                        .iter()
                        .map(|p| String::from_utf8_lossy(p).into_owned())
                        .collect();
                    let kind = if matches!(other, Node::Symlink { .. }) {
                        "symlink"
                    } else {
                        "file"
                    };
                    return Err(NotADirectory {
                        path: format!("/{}", path.join("/")),
                        kind,
                    });
                }
            }
        }
        Ok(dir)
    }

    /// The entry at `path` (components separated by `/`), if any.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        let mut parts = path.split('/').filter(|p| !p.is_empty());
        let first = parts.next()?;
        let mut entry = self.entries.get(first.as_bytes())?;
        for part in parts {
            match &entry.node {
                Node::Dir(d) => entry = d.entries.get(part.as_bytes())?,
                _ => return None,
            }
        }
        Some(entry)
    }

    /// Number of entries in the whole tree.
    pub fn count(&self) -> usize {
        self.entries
            .values()
            .map(|e| 1 + if let Node::Dir(d) = &e.node { d.count() } else { 0 })
            .sum()
    }

    /// Reads a directory tree from disk as it is (symlinks kept, never followed).
    pub fn scan(root: &Path) -> Result<Dir> {
        let mut top = Dir::default();
        let walk = walkdir::WalkDir::new(root)
            .follow_links(false)
            .min_depth(1)
            .sort_by_file_name();
        for item in walk {
            let item = item.map_err(|e| {
                let path = e.path().unwrap_or(root).to_path_buf();
                Error::Io {
                    path,
                    source: e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("walk failed")),
                }
            })?;
            let meta = item.metadata().map_err(|e| Error::Io {
                path: item.path().to_path_buf(),
                source: e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("stat failed")),
            })?;
            let entry = Entry::from_disk(item.path(), &meta)?;
            let rel = item.path().strip_prefix(root).unwrap_or(item.path());
            let names: Vec<&[u8]> = rel.iter().map(|c| c.as_bytes()).collect();
            let Some((name, parents)) = names.split_last() else {
                continue;
            };
            // walkdir yields a directory before its contents, so every parent exists already.
            let mut dir = &mut top;
            for parent in parents {
                match dir.entries.get_mut(*parent).map(|e| &mut e.node) {
                    Some(Node::Dir(d)) => dir = d,
                    _ => {
                        return Err(Error::FileChanged {
                            path: item.path().to_path_buf(),
                        })
                    }
                }
            }
            dir.entries.insert(name.to_vec(), entry);
        }
        Ok(top)
    }

    /// Clamps every modification time to `epoch_ns` (`SOURCE_DATE_EPOCH`).
    pub fn clamp_mtimes(&mut self, epoch_ns: i64) {
        for entry in self.entries.values_mut() {
            entry.mtime_ns = entry.mtime_ns.min(epoch_ns);
            if let Node::Dir(d) = &mut entry.node {
                d.clamp_mtimes(epoch_ns);
            }
        }
    }

    /// Adds what every package has: `dev/`, `tmp/`, `var/` and an empty `proc/cpuinfo`, which
    /// Sandstorm mounts over. Existing entries of the right kind are kept.
    pub fn add_sandbox_mount_points(&mut self, mtime_ns: i64) -> Result<()> {
        for (name, what) in [
            ("dev", "the device nodes"),
            ("tmp", "a tmpfs"),
            ("var", "the grain's storage"),
            ("proc", "cpuinfo"),
        ] {
            let entry = self
                .entries
                .entry(name.as_bytes().to_vec())
                .or_insert_with(|| Entry::dir(mtime_ns));
            if !matches!(entry.node, Node::Dir(_)) {
                return Err(Error::Reserved {
                    path: name.into(),
                    what,
                });
            }
        }
        if let Some(Entry {
            node: Node::Dir(proc_dir),
            ..
        }) = self.entries.get_mut(b"proc".as_slice())
        {
            proc_dir
                .entries
                .insert(b"cpuinfo".to_vec(), Entry::bytes(Vec::new(), false, 0));
        }
        Ok(())
    }
}
