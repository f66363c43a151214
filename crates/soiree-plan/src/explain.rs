//! `soiree-pack why`: why one path is in a package. A file a recipe placed names the recipe line
//! and the source; a file of the run-time closure names the chain from a program of the package
//! (and the recipe that placed it) down to it, and the root it came from. A package file that
//! programs load also says who loads it.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use soiree_deps::How;
use std::os::unix::ffi::OsStrExt;

use soiree_spk::display::Escaped;
use soiree_spk::{Dir, Entry, Node};

use crate::plan::Plan;
use crate::provenance::{self, Placed};

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub package: String,
    pub path: PathBuf,
    /// `file`, `executable`, `symlink` or `directory`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `source`, `template`, `soiree-pack`, `closure` or `directory`.
    pub placed: &'static str,
    /// From who placed it (or the program that needs it) down to it, one sentence a step.
    pub chain: Vec<String>,
    /// For the package's own files that programs load: each program or library that needs it.
    pub needed_by: Vec<String>,
    /// For closure files: the root they were taken from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
    /// With `--all`: every chain that brings a closure file in, shortest first (the first is
    /// `chain`), as `nix why-depends --all` lists them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chains: Option<Vec<Vec<String>>>,
    /// With `--all`: how many chains there were beyond those listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub more_chains: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Why `path` (absolute in the package; a missing leading `/` is added) is in the package. A
/// path through the package's symlinks that a program or ld.so opens (`/lib/…/libc.so.6` where
/// `/lib → usr/lib`) is explained through the file it opens. `None` if the package has no such
/// path.
pub fn why(plan: &Plan, package: &str, path: &Path) -> Option<Explanation> {
    why_with(plan, package, path, false)
}

/// [`why`], and with `all` every chain of a closure file rather than the shortest.
pub fn why_with(plan: &Plan, package: &str, path: &Path, all: bool) -> Option<Explanation> {
    let path: PathBuf = Path::new("/").join(path.strip_prefix("/").unwrap_or(path));
    let (real, entry) = match entry_at(&plan.tree, &path) {
        Some(entry) => (path.clone(), entry),
        None => {
            let real = plan.closure.objects.get(&path)?.real.clone();
            let entry = entry_at(&plan.tree, &real)?;
            (real, entry)
        }
    };
    let (kind, size, target) = match &entry.node {
        Node::File { size, executable, .. } => {
            (if *executable { "executable" } else { "file" }, Some(*size), None)
        }
        Node::Symlink { target } => (
            "symlink",
            None,
            Some(String::from_utf8_lossy(target).into_owned()),
        ),
        Node::Dir(_) => ("directory", None, None),
    };
    let mut e = explain(plan, package, &path, &real, all);
    e.kind = kind;
    e.size = size;
    e.target = target;
    if kind == "directory" && !plan.provenance.contains_key(&path) {
        e.placed = "directory";
        e.chain = vec![format!(
            "{} is a directory on the way to other entries",
            path.display()
        )];
    }
    Some(e)
}

/// The entry at an absolute path of the tree, by the bytes of its components.
fn entry_at<'t>(tree: &'t Dir, path: &Path) -> Option<&'t Entry> {
    let mut dir = tree;
    let mut found: Option<&Entry> = None;
    for part in path.iter().skip(1) {
        if let Some(entry) = found {
            match &entry.node {
                Node::Dir(d) => dir = d,
                _ => return None,
            }
        }
        found = Some(dir.entries.get(part.as_bytes())?);
    }
    found
}

/// The explanation of `path`, whose entry in the tree is at `real` (the same path unless `path`
/// goes through symlinks).
fn explain(plan: &Plan, package: &str, path: &Path, real: &Path, all: bool) -> Explanation {
    let placed = provenance::placed(&plan.provenance, real, false);
    let mut e = Explanation {
        package: package.to_string(),
        path: path.to_path_buf(),
        kind: "file",
        size: None,
        target: None,
        placed: placed.kind(),
        chain: Vec::new(),
        needed_by: Vec::new(),
        root: None,
        chains: None,
        more_chains: 0,
    };
    match &placed {
        Placed::Closure => {
            e.root = Some(plan.closure.root.clone());
            let mut tail = Vec::new();
            if let Some(why) = plan.closure.why(path) {
                e.chain = chain_text(plan, &why.steps);
                tail.extend(why.role_text());
            }
            if real != path {
                tail.push(format!("{} is the file it opens", real.display()));
            }
            tail.push(format!("taken from {}", root_name(&plan.closure.root)));
            e.chain.extend(tail.iter().cloned());
            if all {
                if let Some((chains, more)) = plan.closure.every_chain(path) {
                    e.chains = Some(
                        chains
                            .iter()
                            .map(|c| {
                                let mut lines = chain_text(plan, c);
                                lines.extend(tail.iter().cloned());
                                lines
                            })
                            .collect(),
                    );
                    e.more_chains = more;
                }
            }
        }
        other => {
            e.chain
                .push(format!("{} is placed by {}", real.display(), other.describe()));
            if let Some(object) = plan.closure.object_for(path) {
                for reason in object.reasons.iter().filter(|r| r.how != How::Requested) {
                    e.needed_by.push(soiree_deps::step_text(&object.path, reason));
                }
            }
        }
    }
    e
}

/// A chain in words: the first object with the recipe that placed it, then each step.
fn chain_text(plan: &Plan, steps: &[(PathBuf, soiree_deps::Reason)]) -> Vec<String> {
    steps
        .iter()
        .enumerate()
        .map(|(i, (object, reason))| {
            if i == 0 && reason.how == How::Requested {
                let by = provenance::placed(&plan.provenance, object, false);
                format!("{} is placed by {}", object.display(), by.describe())
            } else {
                soiree_deps::step_text(object, reason)
            }
        })
        .collect()
}

/// The path of the package nearest to `path`, for "did you mean": one with the same file name if
/// there is one (the shortest such path), else the fewest edits away, if that is close enough.
pub fn closest(plan: &Plan, path: &Path) -> Option<PathBuf> {
    let wanted = Path::new("/").join(path.strip_prefix("/").unwrap_or(path));
    let mut all = Vec::new();
    walk(&plan.tree, PathBuf::from("/"), &mut all);
    if let Some(name) = wanted.file_name() {
        if let Some(same) = all
            .iter()
            .filter(|p| p.file_name() == Some(name))
            .min_by_key(|p| (p.as_os_str().len(), p.as_os_str().to_owned()))
        {
            return Some(same.clone());
        }
    }
    let wanted_text = wanted.to_string_lossy();
    let (best, distance) = all
        .iter()
        .map(|p| (p, edits(&wanted_text, &p.to_string_lossy())))
        .min_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)))?;
    // More than a third of the path changed is not a typo.
    (distance * 3 <= wanted_text.chars().count()).then(|| best.clone())
}

fn walk(dir: &Dir, at: PathBuf, out: &mut Vec<PathBuf>) {
    for (name, entry) in &dir.entries {
        let path = at.join(std::ffi::OsStr::from_bytes(name));
        if let Node::Dir(d) = &entry.node {
            walk(d, path.clone(), out);
        }
        out.push(path);
    }
}

/// Levenshtein distance, by characters.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

fn root_name(root: &Path) -> String {
    if root == Path::new("/") {
        "/ (the build machine)".into()
    } else {
        format!("the sysroot {}", root.display())
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = self
            .size
            .map(|s| format!(", {}", crate::listing::human(s)))
            .unwrap_or_default();
        let target = self
            .target
            .as_deref()
            .map(|t| format!(" → {}", Escaped(t)))
            .unwrap_or_default();
        // Paths, targets and chains quote names from sources: escaped.
        writeln!(
            f,
            "{}{target} in package `{}` ({}{size})",
            Escaped(&self.path.to_string_lossy()),
            self.package,
            self.kind
        )?;
        // With --all the shortest chain is the first of the list.
        if self.chains.is_none() {
            for line in &self.chain {
                writeln!(f, "  {}", Escaped(line))?;
            }
        }
        if let Some(chains) = &self.chains {
            for (i, chain) in chains.iter().enumerate() {
                writeln!(f, "  chain {} of {}:", i + 1, chains.len() + self.more_chains)?;
                for line in chain {
                    writeln!(f, "    {}", Escaped(line))?;
                }
            }
            if self.more_chains > 0 {
                writeln!(f, "  … and {} more chains", self.more_chains)?;
            }
        }
        if !self.needed_by.is_empty() {
            writeln!(f, "  loaded by programs of the package:")?;
            for line in &self.needed_by {
                writeln!(f, "    {}", Escaped(line))?;
            }
        }
        Ok(())
    }
}
