//! Everything the mappings of a package place, by in-package path, with the origin of each entry;
//! and the step into a [`soiree_types::Dir`]. Two mappings may place the same thing at one path
//! (the same file twice, a directory both fill); different things at one path are a conflict.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::ops::Bound;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use soiree_types::{Dir, Entry, Node, Source as BytesFrom};

use crate::error::{Error, Result};
use crate::mapping::{components, EntryKind, MappedEntry, Origin};

/// What an entry already in a `Dir` (put there by something other than a mapping) is called in
/// conflicts.
const ALREADY_IN_TREE: &str = "an entry already in the package tree";

#[derive(Debug, Clone, Default)]
pub struct FileSet {
    entries: BTreeMap<PathBuf, MappedEntry>,
}

impl FileSet {
    pub fn new() -> FileSet {
        FileSet::default()
    }

    /// Adds one entry; fails when something different is at its path, or when a file or symlink
    /// is where it needs a directory (or the other way round).
    pub fn add(&mut self, entry: MappedEntry) -> Result<()> {
        for parent in entry.path.ancestors().skip(1) {
            if let Some(there) = self.entries.get(parent) {
                if there.kind != EntryKind::Dir {
                    return Err(not_a_directory(
                        &entry,
                        parent,
                        there.kind.noun(),
                        &there.origin.to_string(),
                    ));
                }
            }
        }
        if let Some(there) = self.entries.get(&entry.path) {
            if same_content(there, &entry)? {
                return Ok(());
            }
            return Err(Error::Conflict {
                path: entry.path.display().to_string(),
                first: there.origin.to_string(),
                second: entry.origin.to_string(),
            });
        }
        if entry.kind != EntryKind::Dir {
            let after = (Bound::Excluded(&entry.path), Bound::Unbounded);
            if let Some((below, there)) = self.entries.range::<PathBuf, _>(after).next() {
                if below.starts_with(&entry.path) {
                    return Err(Error::NotADirectory {
                        path: below.display().to_string(),
                        parent: entry.path.display().to_string(),
                        kind: entry.kind.noun(),
                        first: entry.origin.to_string(),
                        second: there.origin.to_string(),
                    });
                }
            }
        }
        self.entries.insert(entry.path.clone(), entry);
        Ok(())
    }

    pub fn extend(&mut self, entries: impl IntoIterator<Item = MappedEntry>) -> Result<()> {
        entries.into_iter().try_for_each(|e| self.add(e))
    }

    /// The entry at an in-package path.
    pub fn get(&self, path: &Path) -> Option<&MappedEntry> {
        self.entries.get(path)
    }

    /// Where the entry at `path` came from; for a path no mapping placed itself, the closest
    /// directory that one did (an implicit parent has no origin of its own).
    pub fn origin(&self, path: &Path) -> Option<&Origin> {
        path.ancestors()
            .find_map(|p| self.entries.get(p))
            .map(|e| &e.origin)
    }

    /// Every entry, sorted by in-package path.
    pub fn entries(&self) -> impl Iterator<Item = &MappedEntry> {
        self.entries.values()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Puts every entry into `dir`, creating missing parent directories with `dir_mtime_ns`.
    /// Entries already in `dir` may be matched exactly, but not contradicted.
    pub fn insert_into(&self, dir: &mut Dir, dir_mtime_ns: i64) -> Result<()> {
        for entry in self.entries.values() {
            insert_one(dir, entry, dir_mtime_ns)?;
        }
        Ok(())
    }
}

/// Puts `entries` into `dir`: checked against each other first (conflicts name both origins),
/// then against what `dir` holds.
pub fn insert_entries(dir: &mut Dir, entries: &[MappedEntry], dir_mtime_ns: i64) -> Result<()> {
    let mut set = FileSet::new();
    set.extend(entries.iter().cloned())?;
    set.insert_into(dir, dir_mtime_ns)
}

fn insert_one(top: &mut Dir, entry: &MappedEntry, dir_mtime_ns: i64) -> Result<()> {
    let names = components(&entry.path);
    let Some((name, parents)) = names.split_last() else {
        // The package root is always a directory.
        return Ok(());
    };
    let dir = top
        .make_dirs(parents, dir_mtime_ns)
        .map_err(|e| not_a_directory(entry, Path::new(&e.path), e.kind, ALREADY_IN_TREE))?;
    let new = to_tree_entry(entry);
    match dir.entries.get(*name) {
        None => {
            dir.entries.insert(name.to_vec(), new);
        }
        Some(Entry {
            node: Node::Dir(_), ..
        }) if entry.kind == EntryKind::Dir => {}
        Some(there) => {
            if !same_node(&there.node, &new.node)? {
                return Err(Error::Conflict {
                    path: entry.path.display().to_string(),
                    first: ALREADY_IN_TREE.to_string(),
                    second: entry.origin.to_string(),
                });
            }
        }
    }
    Ok(())
}

fn to_tree_entry(entry: &MappedEntry) -> Entry {
    let node = match entry.kind {
        EntryKind::Dir => Node::Dir(Dir::default()),
        EntryKind::Symlink => Node::Symlink {
            target: entry
                .symlink_target
                .as_deref()
                .map(|t| t.as_os_str().as_bytes().to_vec())
                .unwrap_or_default(),
        },
        EntryKind::File => Node::File {
            source: BytesFrom::Path(entry.host.clone()),
            size: entry.size,
            executable: entry.executable,
        },
    };
    Entry {
        node,
        mtime_ns: entry.mtime_ns,
    }
}

fn not_a_directory(entry: &MappedEntry, parent: &Path, kind: &'static str, first: &str) -> Error {
    Error::NotADirectory {
        path: entry.path.display().to_string(),
        parent: parent.display().to_string(),
        kind,
        first: first.to_string(),
        second: entry.origin.to_string(),
    }
}

fn same_content(a: &MappedEntry, b: &MappedEntry) -> Result<bool> {
    same_node(&to_tree_entry(a).node, &to_tree_entry(b).node)
}

fn same_node(a: &Node, b: &Node) -> Result<bool> {
    Ok(match (a, b) {
        (Node::Dir(_), Node::Dir(_)) => true,
        (Node::Symlink { target: x }, Node::Symlink { target: y }) => x == y,
        (
            Node::File {
                source: sa,
                size: za,
                executable: ea,
            },
            Node::File {
                source: sb,
                size: zb,
                executable: eb,
            },
        ) => ea == eb && za == zb && (sa == sb || same_bytes(sa, sb)?),
        _ => false,
    })
}

/// Whether two files hold the same bytes (the same license file mapped by two recipes).
fn same_bytes(a: &BytesFrom, b: &BytesFrom) -> Result<bool> {
    let mut a = open(a)?;
    let mut b = open(b)?;
    let mut buf_a = vec![0u8; 64 * 1024];
    let mut buf_b = vec![0u8; 64 * 1024];
    loop {
        let n = read_full(&mut *a.0, &mut buf_a).map_err(Error::io(&a.1))?;
        let m = read_full(&mut *b.0, &mut buf_b).map_err(Error::io(&b.1))?;
        if buf_a[..n] != buf_b[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn open(from: &BytesFrom) -> Result<(Box<dyn Read + '_>, PathBuf)> {
    Ok(match from {
        BytesFrom::Path(p) => (Box::new(File::open(p).map_err(Error::io(p))?), p.clone()),
        BytesFrom::Bytes(bytes) => (Box::new(&bytes[..]), PathBuf::from("<generated>")),
    })
}

/// Reads until `buf` is full or the input ends, so two readers compare block for block.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
