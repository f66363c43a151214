//! A plan's tree cut into image layers that images of one party share: `base` (soiree-pack's
//! supervisor, the accounts, the mount points, and the libraries the supervisor needs), one layer
//! per source (its files and every library its programs need that `base` does not hold), and
//! `package` (what the recipes' templates and soiree-pack generate for this package). A library
//! two sources need is in both their layers, so a source's layer is the same in every image that
//! has it; a file changed in one source changes that source's layer only.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use soiree_spk::{Dir, Entry, Node};

use crate::manifest::SUPERVISOR;
use crate::plan::{ETC_GROUP, ETC_PASSWD};
use crate::provenance::Placed;
use crate::Plan;

/// Which layer a path goes to; the order is the layers' order in the image.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum LayerKey {
    Base,
    Source(String),
    Package,
}

impl LayerKey {
    pub fn name(&self) -> String {
        match self {
            LayerKey::Base => "base".into(),
            LayerKey::Source(s) => format!("source {s}"),
            LayerKey::Package => "package".into(),
        }
    }
}

/// One layer: its key and the part of the tree it holds (with the folders leading to it).
#[derive(Debug, Clone)]
pub struct PlannedLayer {
    pub key: LayerKey,
    pub tree: Dir,
}

/// The plan's tree as layers, in order, none empty.
pub fn cut(plan: &Plan) -> Vec<PlannedLayer> {
    let closure_keys = closure_keys(plan);
    let mut layers: BTreeMap<LayerKey, Dir> = BTreeMap::new();
    let mut walk = Vec::new();
    collect(&plan.tree, PathBuf::from("/"), &mut walk);
    for (path, chain, entry) in walk {
        let name = path
            .file_name()
            .map(|n| n.as_bytes().to_vec())
            .unwrap_or_default();
        let keys = match closure_keys.get(&path) {
            Some(keys) => keys.clone(),
            None => BTreeSet::from([placed_key(plan, &path).unwrap_or(LayerKey::Base)]),
        };
        for key in keys {
            insert(
                layers.entry(key).or_default(),
                &chain,
                name.clone(),
                entry.clone(),
            );
        }
    }
    layers
        .into_iter()
        .map(|(key, tree)| PlannedLayer { key, tree })
        .collect()
}

type Chain = Vec<(Vec<u8>, Entry)>;

/// Puts `entry` at the end of `chain` (folders made as needed, with the tree's times).
fn insert(dir: &mut Dir, chain: &[(Vec<u8>, Entry)], name: Vec<u8>, entry: Entry) {
    match chain.split_first() {
        None => {
            dir.entries.insert(name, entry);
        }
        Some(((folder, like), rest)) => {
            let slot = dir
                .entries
                .entry(folder.clone())
                .or_insert_with(|| Entry::dir(like.mtime_ns));
            // The chain holds the tree's own folders, so the slot is a folder.
            if let Node::Dir(sub) = &mut slot.node {
                insert(sub, rest, name, entry);
            }
        }
    }
}

/// Every file, symlink and empty folder, with the folders above it.
fn collect(dir: &Dir, at: PathBuf, out: &mut Vec<(PathBuf, Chain, Entry)>) {
    fn go(dir: &Dir, at: &Path, chain: &mut Chain, out: &mut Vec<(PathBuf, Chain, Entry)>) {
        for (name, entry) in &dir.entries {
            let path = at.join(std::ffi::OsStr::from_bytes(name));
            match &entry.node {
                Node::Dir(sub) if !sub.entries.is_empty() => {
                    chain.push((name.clone(), Entry::dir(entry.mtime_ns)));
                    go(sub, &path, chain, out);
                    chain.pop();
                }
                _ => out.push((path, chain.clone(), entry.clone())),
            }
        }
    }
    go(dir, &at, &mut Vec::new(), out);
}

/// The layer of what a recipe or soiree-pack placed at `path` (or at the folder it is in).
fn placed_key(plan: &Plan, path: &Path) -> Option<LayerKey> {
    for p in path.ancestors() {
        match plan.provenance.get(p) {
            Some(Placed::Source { source, .. }) => return Some(LayerKey::Source(source.clone())),
            Some(Placed::Template { .. } | Placed::Listing { .. }) => return Some(LayerKey::Package),
            Some(Placed::Generated) => {
                let base = [SUPERVISOR, ETC_PASSWD, ETC_GROUP]
                    .iter()
                    .any(|b| Path::new(b) == p);
                return Some(if base { LayerKey::Base } else { LayerKey::Package });
            }
            Some(Placed::Closure | Placed::Directory) | None => {}
        }
    }
    None
}

/// For each path the closure added: the layers of the programs that need it — `base` alone when
/// the supervisor is one of them, since every image has that layer.
fn closure_keys(plan: &Plan) -> BTreeMap<PathBuf, BTreeSet<LayerKey>> {
    let closure = &plan.closure;
    // The programs (asked for by the planner) each object is there for, followed up its reasons.
    let mut roots: BTreeMap<&Path, BTreeSet<&Path>> = BTreeMap::new();
    for object in closure.objects.values() {
        let mut seen = BTreeSet::new();
        let mut todo = vec![object.path.as_path()];
        let mut found = BTreeSet::new();
        while let Some(p) = todo.pop() {
            if !seen.insert(p) {
                continue;
            }
            let Some(o) = closure.objects.get(p) else {
                continue;
            };
            for r in &o.reasons {
                match &r.by {
                    None => {
                        found.insert(o.path.as_path());
                    }
                    Some(by) => todo.push(by.as_path()),
                }
            }
        }
        roots.insert(object.path.as_path(), found);
    }
    let mut keys = BTreeMap::new();
    for entry in closure.entries.values().filter(|e| !e.in_package) {
        let mut set: BTreeSet<LayerKey> = entry
            .serves
            .iter()
            .filter_map(|o| roots.get(o.as_path()))
            .flatten()
            .map(|program| placed_key(plan, program).unwrap_or(LayerKey::Package))
            .collect();
        if set.is_empty() || set.contains(&LayerKey::Base) {
            set = BTreeSet::from([LayerKey::Base]);
        }
        keys.insert(entry.path.clone(), set);
    }
    keys
}
