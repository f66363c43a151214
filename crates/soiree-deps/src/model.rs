//! What a closure is made of: the objects that get opened (programs, libraries, interpreters),
//! the reasons each is there, and the files and symlinks the package must hold for every one of
//! them to open.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// Everything some programs need at run time, inside one root.
#[derive(Debug, Clone, Default)]
pub struct Closure {
    /// The root directory on the host that every path was looked up in.
    pub root: PathBuf,
    /// What gets opened, by the path it is opened under (absolute, inside the package).
    pub objects: BTreeMap<PathBuf, Object>,
    /// What the package must hold, by in-package path: every object's real file and every
    /// symlink on the way to it. Parents of these paths are plain directories.
    pub entries: BTreeMap<PathBuf, ClosureEntry>,
    /// Libraries marked optional that were not found.
    pub missing: Vec<MissingLibrary>,
    /// Things that will not work in the package the way they worked when looked up here.
    pub warnings: Vec<String>,
}

/// Something that is opened: a program, a library, an interpreter, the loader's cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// The path as the loader or program opens it, e.g. `/lib/x86_64-linux-gnu/libc.so.6`.
    pub path: PathBuf,
    /// What it resolves to after every symlink, e.g. `/usr/lib/x86_64-linux-gnu/libc.so.6`.
    pub real: PathBuf,
    /// The symlinks passed on the way, in order (each is an entry).
    pub symlinks: Vec<PathBuf>,
    pub kind: ObjectKind,
    /// Why it is there; the first is the one met first, which gives the shortest chain.
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectKind {
    Elf,
    Script,
    /// Anything else: read as data (the loader's cache, a program that is not ELF or `#!`).
    Data,
}

/// One reason an object is in the closure.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reason {
    /// The object that needs it (`None` for what the caller asked for).
    pub by: Option<PathBuf>,
    pub how: How,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum How {
    /// The caller asked for it.
    Requested,
    /// `PT_INTERP` of `by`: the kernel loads it to run `by`.
    Interpreter,
    /// `DT_NEEDED` of `by`.
    Needed { name: OsString, via: Via },
    /// The `#!` interpreter of the script `by`.
    Shebang,
    /// The program `#!/usr/bin/env NAME` in the script `by` runs, found on the PATH.
    Env { name: OsString },
    /// ld.so finds `by` only through its cache, in a directory it does not search by itself.
    LoaderCache,
}

/// Which step of ld.so's search found a library.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// The name has a `/`: it is a path.
    Path,
    /// The process had already loaded an object by that name (or with that soname).
    Loaded,
    /// `DT_RPATH` of the object named here (the needer or one that loaded it).
    Rpath(PathBuf),
    /// The caller's extra library path (what `LD_LIBRARY_PATH` will hold).
    LibraryPath,
    /// `DT_RUNPATH` of the needer.
    Runpath,
    /// `/etc/ld.so.cache`.
    Cache,
    /// `/etc/ld.so.conf`, read because the root has no cache.
    Conf,
    /// The loader's built-in directories.
    Default,
}

/// A file or symlink the package must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureEntry {
    /// Absolute path inside the package.
    pub path: PathBuf,
    pub kind: EntryKind,
    /// Where to read it from on this machine (the path under the root).
    pub host_path: PathBuf,
    pub mtime_ns: i64,
    /// The objects this entry is, or is on the way to (their opened paths).
    pub serves: BTreeSet<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    File { size: u64, executable: bool },
    Symlink { target: PathBuf },
}

/// An optional library that was not found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissingLibrary {
    pub name: OsString,
    pub needed_by: PathBuf,
}

impl Closure {
    /// The objects the caller asked for.
    pub fn requested(&self) -> impl Iterator<Item = &Object> {
        self.objects
            .values()
            .filter(|o| o.reasons.iter().any(|r| r.how == How::Requested))
    }

    /// The object opened under `path`, or the object an entry at `path` serves.
    pub fn object_for(&self, path: &Path) -> Option<&Object> {
        if let Some(object) = self.objects.get(path) {
            return Some(object);
        }
        let entry = self.entries.get(path)?;
        entry
            .serves
            .iter()
            .filter_map(|p| self.objects.get(p))
            .min_by_key(|o| crate::why::lineage(self, &o.path).len())
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Path => write!(f, "a path"),
            Via::Loaded => write!(f, "already loaded"),
            Via::Rpath(of) => write!(f, "DT_RPATH of {}", of.display()),
            Via::LibraryPath => write!(f, "the extra library path"),
            Via::Runpath => write!(f, "DT_RUNPATH"),
            Via::Cache => write!(f, "/etc/ld.so.cache"),
            Via::Conf => write!(f, "/etc/ld.so.conf"),
            Via::Default => write!(f, "a default directory"),
        }
    }
}
