//! Find the files a program needs at run time: ELF loader and shared libraries, script interpreters.
//!
//! A package runs in a grain where nothing from the build machine exists, so every shared
//! library, the dynamic loader and every script interpreter must be inside it. [`closure`] finds
//! them statically, inside a root directory (`/` or a sysroot), the way the kernel and glibc's
//! ld.so will look for them: `PT_INTERP`, `DT_NEEDED` through `DT_RPATH`, the extra library path,
//! `DT_RUNPATH`, `/etc/ld.so.cache` (or `/etc/ld.so.conf`) and the default directories; `#!`
//! interpreters and `#!/usr/bin/env NAME`. Every symlink on the way is kept, and every file says
//! why it is there ([`Closure::why`]). [`Closure::to_dir`] makes the tree to pack.
//!
//! For a package, [`Options::package`] puts the package's own files above the root: programs
//! are then paths in the package ([`programs_in`] finds them), `$ORIGIN` is their directory in
//! the package, libraries the package holds win, and only what it lacks comes from the root.

pub mod arch;
mod closure;
pub mod dst;
pub mod elf;
pub mod error;
mod interpreters;
pub mod layer;
pub mod ld_cache;
pub mod ld_conf;
mod model;
mod options;
mod package_programs;
mod package_tree;
mod pattern;
mod process;
pub mod root;
pub mod script;
mod search;
mod why;

pub use closure::closure;
pub use error::{Error, Result};
pub use model::{Closure, ClosureEntry, EntryKind, How, MissingLibrary, Object, ObjectKind, Reason, Via};
pub use options::{Options, ProgramOrigin, DEFAULT_PATH};
pub use package_programs::programs_in;
pub use why::{step_text, Chain, Role, Why, MAX_CHAINS};
