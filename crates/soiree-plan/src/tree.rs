//! The file tree of a package: recipe file mappings resolved against their sources, plus the
//! files soiree-pack generates. Conflicts name both origins.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use soiree_party::{FileContent, FileMapping, Origin};
use soiree_spk::{Dir, Entry, Node};

/// Finds the local copy of a named source (fetched, verified and extracted if need be).
pub trait Resolve {
    fn resolve(&self, source: &str) -> Result<PathBuf, String>;
}

/// Resolves sources that are local paths, relative to the party directory.
pub struct LocalSources<'a>(pub &'a soiree_party::Party);

impl Resolve for LocalSources<'_> {
    fn resolve(&self, source: &str) -> Result<PathBuf, String> {
        match self.0.sources.get(source) {
            Some(soiree_party::SourceDef::Path { path, sub_path, .. }) => {
                let p = match sub_path {
                    Some(s) => path.join(s),
                    None => path.clone(),
                };
                if p.symlink_metadata().is_err() {
                    return Err(format!("source `{source}`: {} does not exist", p.display()));
                }
                Ok(p)
            }
            Some(soiree_party::SourceDef::Url { url, .. }) => Err(format!(
                "source `{source}` is a download ({url}); this build resolves local paths only"
            )),
            None => Err(format!("no source named `{source}`")),
        }
    }
}

fn globs(patterns: &[String]) -> Result<Option<GlobSet>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|e| format!("bad glob `{p}`: {e}"))?);
    }
    b.build().map(Some).map_err(|e| e.to_string())
}

/// Keeps only entries whose path (relative to the mapping) passes include/exclude.
fn filter(dir: &mut Dir, prefix: &str, include: &Option<GlobSet>, exclude: &Option<GlobSet>) {
    dir.entries.retain(|name, entry| {
        let rel = format!("{prefix}{}", String::from_utf8_lossy(name));
        if exclude.as_ref().is_some_and(|g| g.is_match(&rel)) {
            return false;
        }
        match &mut entry.node {
            Node::Dir(d) => {
                filter(d, &format!("{rel}/"), include, exclude);
                include.is_none() || !d.entries.is_empty()
            }
            _ => include.as_ref().is_none_or(|g| g.is_match(&rel)),
        }
    });
}

fn describe(origin: &Origin) -> String {
    format!("{} ({}:{})", origin.via, origin.place.file.name, line_of(origin))
}

fn line_of(origin: &Origin) -> usize {
    origin.place.file.text[..origin.place.span.start.min(origin.place.file.text.len())]
        .matches('\n')
        .count()
        + 1
}

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
    let mut dir = tree;
    let mut walked = String::new();
    for p in parents {
        walked.push('/');
        walked.push_str(p);
        let e = dir
            .entries
            .entry(p.as_bytes().to_vec())
            .or_insert_with(|| Entry::dir(entry.mtime_ns));
        match &mut e.node {
            Node::Dir(d) => dir = d,
            _ => {
                return Err(format!(
                    "{origin}: {walked} is already a file, so {path} cannot be placed under it"
                ))
            }
        }
    }
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

/// Adds one recipe file mapping to the tree.
pub fn add_mapping(
    tree: &mut Dir,
    m: &FileMapping,
    sources: &dyn Resolve,
    epoch_ns: Option<i64>,
) -> Result<(), String> {
    let origin = describe(&m.origin);
    let mtime = epoch_ns.unwrap_or(0);
    let mut entry = match &m.content {
        FileContent::Text(text) => {
            Entry::bytes(text.as_bytes().to_vec(), m.executable.unwrap_or(false), mtime)
        }
        FileContent::Source {
            source,
            from,
            include,
            exclude,
        } => {
            let root = sources.resolve(source).map_err(|e| format!("{origin}: {e}"))?;
            let src = if from.is_empty() { root } else { root.join(from) };
            let meta = src
                .symlink_metadata()
                .map_err(|e| format!("{origin}: {}: {e}", src.display()))?;
            let mut entry = if meta.is_dir() {
                let mut d = Dir::scan(&src).map_err(|e| format!("{origin}: {e}"))?;
                filter(&mut d, "", &globs(include)?, &globs(exclude)?);
                Entry {
                    node: Node::Dir(d),
                    mtime_ns: mtime_of(&meta),
                }
            } else {
                Entry::from_disk(&src, &meta).map_err(|e| format!("{origin}: {e}"))?
            };
            if let (Some(x), Node::File { executable, .. }) = (m.executable, &mut entry.node) {
                *executable = x;
            }
            entry
        }
    };
    if let Some(epoch) = epoch_ns {
        clamp(&mut entry, epoch);
    }
    graft(tree, &m.to, entry, &origin)
}

fn mtime_of(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime()
        .saturating_mul(1_000_000_000)
        .saturating_add(meta.mtime_nsec())
}

fn clamp(entry: &mut Entry, epoch: i64) {
    entry.mtime_ns = entry.mtime_ns.min(epoch);
    if let Node::Dir(d) = &mut entry.node {
        d.clamp_mtimes(epoch);
    }
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
