//! Turning a closure into entries of the tree a package is packed from.

use std::os::unix::ffi::OsStrExt;
use std::path::Component;

use soiree_types::{Dir, Entry, Node, Source};

use crate::error::{Error, Result};
use crate::model::{Closure, ClosureEntry, EntryKind};

impl Closure {
    /// A tree holding every entry from the root: files read from their host paths (executables
    /// keep their executable bit), symlinks as symlinks, parent directories made with
    /// `dir_mtime_ns`. The package's own entries are left out: they are there already.
    pub fn to_dir(&self, dir_mtime_ns: i64) -> Result<Dir> {
        let mut dir = Dir::default();
        self.add_to_dir(&mut dir, dir_mtime_ns)?;
        Ok(dir)
    }

    /// Adds every entry to `dir`. An entry already there with the same content is left alone;
    /// anything else already at one of these paths is a conflict.
    pub fn add_to_dir(&self, dir: &mut Dir, dir_mtime_ns: i64) -> Result<()> {
        for entry in self.entries.values().filter(|e| !e.in_package) {
            insert(dir, entry, dir_mtime_ns)?;
        }
        Ok(())
    }
}

fn insert(top: &mut Dir, entry: &ClosureEntry, dir_mtime_ns: i64) -> Result<()> {
    let conflict = |reason: &str| Error::TreeConflict {
        path: entry.path.clone(),
        reason: reason.to_string(),
    };
    let names: Vec<&[u8]> = entry
        .path
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.as_bytes()),
            _ => None,
        })
        .collect();
    let Some((name, parents)) = names.split_last() else {
        return Err(conflict("the root itself cannot be an entry"));
    };
    let dir = top.make_dirs(parents, dir_mtime_ns).map_err(|e| {
        conflict(&format!(
            "{} is already in the tree and is not a directory",
            e.path
        ))
    })?;
    let node = match &entry.kind {
        EntryKind::File { size, executable } => Node::File {
            source: Source::Path(entry.host_path.clone()),
            size: *size,
            executable: *executable,
        },
        EntryKind::Symlink { target } => Node::Symlink {
            target: target.as_os_str().as_bytes().to_vec(),
        },
    };
    match dir.entries.get(*name) {
        Some(existing) if existing.node == node => Ok(()),
        Some(_) => Err(conflict("something else is already at this path in the tree")),
        None => {
            dir.entries.insert(
                name.to_vec(),
                Entry {
                    node,
                    mtime_ns: entry.mtime_ns,
                },
            );
            Ok(())
        }
    }
}
