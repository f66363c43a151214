//! Placing entries into a package tree (directories merge; different content at one path is a
//! conflict) and staging a tree on disk for Sandstorm's `spk pack`.

use std::path::Path;

use soiree_spk::{Dir, Entry, Node};

/// Places `entry` at the absolute in-package `path`, merging directories.
pub fn graft(tree: &mut Dir, path: &str, entry: Entry, origin: &str) -> Result<(), String> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let Some((last, parents)) = parts.split_last() else {
        // The root itself: merge a directory's entries into it.
        return match entry.node {
            Node::Dir(d) => merge(tree, d, "", origin),
            _ => Err(format!("{origin}: only a directory can be mapped to /")),
        };
    };
    let parents: Vec<&[u8]> = parents.iter().map(|p| p.as_bytes()).collect();
    let dir = tree.make_dirs(&parents, entry.mtime_ns).map_err(|e| {
        format!(
            "{origin}: {} is already a {}, so {path} cannot be placed under it",
            e.path, e.kind
        )
    })?;
    match dir.entries.get_mut(last.as_bytes()) {
        None => {
            dir.entries.insert(last.as_bytes().to_vec(), entry);
            Ok(())
        }
        Some(existing) => match (&mut existing.node, entry.node) {
            (Node::Dir(a), Node::Dir(b)) => merge(a, b, path, origin),
            (old, new) if *old == new => Ok(()),
            _ => Err(format!(
                "{origin}: {path} is already in the package with other content"
            )),
        },
    }
}

fn merge(into: &mut Dir, from: Dir, at: &str, origin: &str) -> Result<(), String> {
    for (name, entry) in from.entries {
        let path = format!("{at}/{}", String::from_utf8_lossy(&name));
        match into.entries.get_mut(&name) {
            None => {
                into.entries.insert(name, entry);
            }
            Some(existing) => match (&mut existing.node, entry.node) {
                (Node::Dir(a), Node::Dir(b)) => merge(a, b, &path, origin)?,
                (old, new) if *old == new => {}
                _ => {
                    return Err(format!(
                        "{origin}: {path} is already in the package with other content"
                    ))
                }
            },
        }
    }
    Ok(())
}

/// Writes the tree to `target` (which must not exist) so Sandstorm's `spk pack` can read it.
pub fn stage(tree: &Dir, target: &Path) -> Result<(), String> {
    std::fs::create_dir_all(target).map_err(|e| format!("{}: {e}", target.display()))?;
    for (name, entry) in &tree.entries {
        let path = target.join(std::ffi::OsStr::from_bytes(name));
        let err = |e: std::io::Error| format!("{}: {e}", path.display());
        match &entry.node {
            Node::Dir(d) => stage(d, &path)?,
            Node::Symlink { target: t } => {
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(t), &path).map_err(err)?
            }
            Node::File {
                source, executable, ..
            } => {
                match source {
                    // A copy, never a hard link: the mode set below must not touch the source.
                    soiree_spk::Source::Path(p) => {
                        std::fs::copy(p, &path).map_err(err)?;
                    }
                    soiree_spk::Source::Bytes(b) => std::fs::write(&path, b).map_err(err)?,
                }
                let mode = if *executable { 0o755 } else { 0o644 };
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).map_err(err)?;
            }
        }
    }
    Ok(())
}

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
