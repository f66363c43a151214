//! Why a file is in a closure: the chain from something the caller asked for down to it, for
//! `soiree-pack why` and for error messages.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::{Closure, EntryKind, How, Reason};

/// How a path relates to the object it is there for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// It is the object: opened under this very path.
    Opened,
    /// A symlink passed on the way to the object.
    SymlinkTo(PathBuf),
    /// The real file behind the object's path, which has symlinks in it.
    FileOf(PathBuf),
}

/// The chain that brings one path into a closure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    /// The path asked about (an entry or an object).
    pub path: PathBuf,
    pub role: Role,
    /// From something asked for down to the object: each object and the reason it is there.
    pub steps: Vec<(PathBuf, Reason)>,
}

impl Closure {
    /// The shortest chain that brings `path` (an in-package path) into the closure.
    pub fn why(&self, path: &Path) -> Option<Why> {
        let object = self.object_for(path)?;
        let steps = lineage(self, &object.path)
            .into_iter()
            .filter_map(|p| {
                let reason = self.objects.get(&p)?.reasons.first()?.clone();
                Some((p, reason))
            })
            .collect();
        Some(Why {
            path: path.to_path_buf(),
            role: if object.path == path {
                Role::Opened
            } else if object.real == path {
                Role::FileOf(object.path.clone())
            } else {
                Role::SymlinkTo(object.path.clone())
            },
            steps,
        })
    }
}

/// The most chains [`Closure::every_chain`] lists: a library that every program needs through
/// several others has chains by the hundred; past this they are counted, not listed.
pub const MAX_CHAINS: usize = 200;

/// A chain: from something asked for down to an object, each object with the reason it is there.
pub type Chain = Vec<(PathBuf, Reason)>;

impl Closure {
    /// Every chain that brings `path` into the closure (`why --all`), shortest first, and how
    /// many more there were than [`MAX_CHAINS`].
    pub fn every_chain(&self, path: &Path) -> Option<(Vec<Chain>, usize)> {
        let object = self.object_for(path)?;
        let mut found = Vec::new();
        let mut more = 0;
        let mut below = Vec::new();
        self.chains_to(&object.path, &mut below, &mut found, &mut more);
        found.sort_by(|a: &Chain, b: &Chain| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        Some((found, more))
    }

    /// Depth first from `at` up its reasons; `below` is the chain from `at`'s child down to the
    /// object, reversed. A path already on the chain is a cycle and ends that branch.
    fn chains_to(&self, at: &Path, below: &mut Chain, found: &mut Vec<Chain>, more: &mut usize) {
        let Some(object) = self.objects.get(at) else {
            return;
        };
        for reason in &object.reasons {
            if found.len() >= MAX_CHAINS {
                *more += 1;
                // Counting every further chain could take long on a big closure: a bound.
                if *more > 100_000 {
                    return;
                }
            }
            below.push((at.to_path_buf(), reason.clone()));
            match reason.by.as_deref() {
                None => {
                    if found.len() < MAX_CHAINS {
                        found.push(below.iter().rev().cloned().collect());
                    }
                }
                Some(by) if !below.iter().any(|(p, _)| p == by) => {
                    self.chains_to(by, below, found, more);
                }
                Some(_) => {}
            }
            below.pop();
        }
    }
}

/// The objects from something asked for down to `path`, following each one's first reason.
pub fn lineage(closure: &Closure, path: &Path) -> Vec<PathBuf> {
    let mut chain = vec![path.to_path_buf()];
    let mut at = path;
    while let Some(by) = closure
        .objects
        .get(at)
        .and_then(|o| o.reasons.first())
        .and_then(|r| r.by.as_deref())
    {
        if chain.len() > closure.objects.len() || chain.iter().any(|p| p == by) {
            break;
        }
        chain.push(by.to_path_buf());
        at = by;
    }
    chain.reverse();
    chain
}

impl Why {
    /// What `path` is to the object it is there for, unless it is the object itself:
    /// "… is a symlink on the way to …", "… is the file … opens".
    pub fn role_text(&self) -> Option<String> {
        let path = self.path.display();
        match &self.role {
            Role::Opened => None,
            Role::SymlinkTo(object) => {
                Some(format!("{path} is a symlink on the way to {}", object.display()))
            }
            Role::FileOf(object) => Some(format!("{path} is the file {} opens", object.display())),
        }
    }
}

/// One step of a chain in words: why `object` is there, given `reason`.
pub fn step_text(object: &Path, reason: &Reason) -> String {
    let object_shown = object.display();
    let by = reason.by.as_deref().map(Path::display);
    match (&reason.how, by) {
        (How::Requested, _) | (_, None) => format!("{object_shown} was asked for"),
        (How::Interpreter, Some(by)) => format!("{by} is run by its program interpreter {object_shown}"),
        (How::Needed { name, via }, Some(by)) => {
            format!("{by} needs {} → {object_shown} ({via})", name.to_string_lossy())
        }
        (How::Shebang, Some(by)) => format!("{by} is a script for {object_shown} (#!)"),
        (How::Env { name }, Some(by)) => format!(
            "{by} runs {} through env → {object_shown} (PATH)",
            name.to_string_lossy()
        ),
        (How::LoaderCache, Some(by)) => format!("ld.so finds {by} only through {object_shown}"),
    }
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (object, reason) in &self.steps {
            writeln!(f, "{}", step_text(object, reason))?;
        }
        if let Some(role) = self.role_text() {
            writeln!(f, "{role}")?;
        }
        Ok(())
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryKind::File { executable: true, .. } => write!(f, "executable"),
            EntryKind::File { .. } => write!(f, "file"),
            EntryKind::Symlink { target } => write!(f, "symlink → {}", target.display()),
        }
    }
}
