//! Where and how a closure looks: the root, the extra library path, PATH, optional sonames.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;

/// Where and how to look.
#[derive(Debug, Clone)]
pub struct Options {
    /// The root directory everything is looked up in; `/` by default.
    pub root: PathBuf,
    /// Directories searched after `DT_RPATH` and before `DT_RUNPATH`, as `LD_LIBRARY_PATH` is
    /// (`$ORIGIN` is the main program's directory). The package must set `LD_LIBRARY_PATH` to
    /// the same for its programs to find these libraries.
    pub library_path: Vec<PathBuf>,
    /// Where `#!/usr/bin/env NAME` finds NAME, in order.
    pub path: Vec<PathBuf>,
    /// Sonames that may be missing: recorded in [`Closure::missing`] instead of failing.
    pub optional: BTreeSet<OsString>,
}

/// The PATH a grain gets unless its manifest says otherwise.
pub const DEFAULT_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

impl Default for Options {
    fn default() -> Self {
        Options {
            root: PathBuf::from("/"),
            library_path: Vec::new(),
            path: DEFAULT_PATH.iter().map(PathBuf::from).collect(),
            optional: BTreeSet::new(),
        }
    }
}
