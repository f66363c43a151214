//! Where and how a closure looks: the root, the package's own files above it, the extra library
//! path, PATH, optional sonames.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use soiree_types::Dir;

/// Where and how to look.
#[derive(Debug, Clone)]
pub struct Options {
    /// The root directory everything is looked up in; `/` by default.
    pub root: PathBuf,
    /// The package's own files, seen above the root as the grain will see them: a path the
    /// package has is never looked up in the root, so its libraries win and are never replaced.
    /// Programs may then be paths of the package. Entries found here are in the closure with
    /// [`ClosureEntry::in_package`](crate::ClosureEntry::in_package) set.
    pub package: Option<Arc<Dir>>,
    /// Directories searched after `DT_RPATH` and before `DT_RUNPATH`, as `LD_LIBRARY_PATH` is
    /// (`$ORIGIN` is the main program's directory). The package must set `LD_LIBRARY_PATH` to
    /// the same for its programs to find these libraries.
    pub library_path: Vec<PathBuf>,
    /// Where `#!/usr/bin/env NAME` finds NAME, in order.
    pub path: Vec<PathBuf>,
    /// Sonames that may be missing: recorded in [`Closure::missing`] instead of failing.
    pub optional: BTreeSet<OsString>,
    /// How ld.so learns a program's own directory, the `$ORIGIN` of its `DT_RPATH`,
    /// `DT_RUNPATH` and of the library path.
    pub program_origin: ProgramOrigin,
}

/// Where `$ORIGIN` of a program (an ELF file with `PT_INTERP`, exec'd rather than loaded) comes
/// from. ld.so reads `/proc/self/exe`; without it, it takes `LD_ORIGIN_PATH`; without that, the
/// program has no `$ORIGIN` and every search directory that uses it is dropped. A library's
/// `$ORIGIN` is always known: the directory it was opened from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProgramOrigin {
    /// `/proc/self/exe`: the directory of the program's real path (a normal host).
    #[default]
    ProcSelfExe,
    /// `LD_ORIGIN_PATH`, with no `/proc`: this directory, for every program.
    Fixed(PathBuf),
    /// No `/proc` and no `LD_ORIGIN_PATH`: a Sandstorm grain, where procfs is not mounted.
    Unknown,
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
            package: None,
            library_path: Vec::new(),
            path: DEFAULT_PATH.iter().map(PathBuf::from).collect(),
            optional: BTreeSet::new(),
            program_origin: ProgramOrigin::default(),
        }
    }
}
