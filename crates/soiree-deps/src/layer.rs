//! The two layers a path can be found in: the package's own files (a `soiree_types::Dir`), which
//! win, and the root directory on this machine under them. In the grain ld.so sees only the
//! package, so a library the package already holds is the one it loads; whatever the package
//! lacks comes from the root and is added at its own path.

use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use soiree_types::{Dir, Entry, Node, Source};

/// Which layer a path was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// The root directory (`/` or a sysroot): the package needs a copy.
    Root,
    /// The package's own files: already there.
    Package,
}

/// Where the bytes of something found are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A file or directory on this machine.
    Host(PathBuf),
    /// A file the package holds as bytes (generated, not read from disk).
    Bytes(Arc<[u8]>),
    /// A directory or symlink of the package tree: nothing to read.
    InPackage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    /// Sockets, fifos, devices: never opened as programs or libraries.
    Other,
}

/// What `lstat` says, or what the package tree says: the little the search needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub kind: Kind,
    len: u64,
    mode: u32,
    pub mtime_ns: i64,
}

impl Stat {
    pub fn is_file(&self) -> bool {
        self.kind == Kind::File
    }

    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Permission bits; a package file is 0755 or 0644, as `unpack` makes it.
    pub fn mode(&self) -> u32 {
        self.mode
    }

    pub(crate) fn from_meta(meta: &Metadata) -> Stat {
        let ft = meta.file_type();
        let kind = if ft.is_symlink() {
            Kind::Symlink
        } else if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File
        } else {
            Kind::Other
        };
        Stat {
            kind,
            len: meta.len(),
            mode: meta.mode() & 0o7777,
            mtime_ns: crate::root::mtime_ns(meta),
        }
    }
}

/// One entry of the package tree, as the resolver sees it.
pub(crate) struct Found {
    pub stat: Stat,
    pub content: Content,
    pub target: Option<PathBuf>,
}

/// The entry at an absolute, symlink-free path of the package tree. A component on the way that
/// is not a directory means the package has nothing there (the resolver only asks for paths
/// whose parents are directories in the merged view).
pub(crate) fn package_entry(tree: &Dir, path: &Path) -> Option<Found> {
    let mut dir = tree;
    let mut entry: Option<&Entry> = None;
    for part in path.iter().filter(|p| *p != OsStr::new("/")) {
        if let Some(e) = entry {
            match &e.node {
                Node::Dir(d) => dir = d,
                _ => return None,
            }
        }
        entry = Some(dir.entries.get(part.as_bytes())?);
    }
    let entry = entry?;
    let stat = |kind, len, mode| Stat {
        kind,
        len,
        mode,
        mtime_ns: entry.mtime_ns,
    };
    Some(match &entry.node {
        Node::Dir(_) => Found {
            stat: stat(Kind::Dir, 0, 0o755),
            content: Content::InPackage,
            target: None,
        },
        Node::Symlink { target } => Found {
            stat: stat(Kind::Symlink, target.len() as u64, 0o777),
            content: Content::InPackage,
            target: Some(PathBuf::from(OsStr::from_bytes(target))),
        },
        Node::File {
            source,
            size,
            executable,
        } => Found {
            stat: stat(Kind::File, *size, if *executable { 0o755 } else { 0o644 }),
            content: match source {
                Source::Path(p) => Content::Host(p.clone()),
                Source::Bytes(b) => Content::Bytes(b.clone()),
            },
            target: None,
        },
    })
}

/// The names in the package directory at `path`, if the package has a directory there.
pub(crate) fn package_names(tree: &Dir, path: &Path) -> Vec<Vec<u8>> {
    let mut dir = tree;
    for part in path.iter().filter(|p| *p != OsStr::new("/")) {
        match dir.entries.get(part.as_bytes()).map(|e| &e.node) {
            Some(Node::Dir(d)) => dir = d,
            _ => return Vec::new(),
        }
    }
    dir.entries.keys().cloned().collect()
}
