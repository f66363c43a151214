//! Every way finding a program's run-time files can fail, as miette diagnostics.
//!
//! Paths in these errors are paths inside the root (as the program in the package sees them);
//! `needed_by` is the chain that led there, e.g. `/usr/bin/redis-server → libssl.so.3`.

use miette::Diagnostic;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error("{path}: {source}")]
    #[diagnostic(code(soiree::deps::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: not found in {root} ({what})")]
    #[diagnostic(code(soiree::deps::not_found))]
    NotFound {
        path: PathBuf,
        root: PathBuf,
        what: String,
    },

    #[error("{link} is a broken symlink: its target {target} does not exist in {root} ({what})")]
    #[diagnostic(
        code(soiree::deps::broken_symlink),
        help("install what the symlink points to, or fix the symlink")
    )]
    BrokenSymlink {
        link: PathBuf,
        target: PathBuf,
        root: PathBuf,
        what: String,
    },

    #[error("{path}: not a regular file ({what})")]
    #[diagnostic(code(soiree::deps::not_a_file))]
    NotAFile { path: PathBuf, what: String },

    #[error("{path}: too many levels of symlinks in {root}")]
    #[diagnostic(code(soiree::deps::symlink_loop))]
    SymlinkLoop { path: PathBuf, root: PathBuf },

    #[error("{path}: {reason}")]
    #[diagnostic(
        code(soiree::deps::malformed_elf),
        help("the file looks like ELF but cannot be read as ELF; is it truncated?")
    )]
    MalformedElf { path: PathBuf, reason: String },

    #[error("{needed_by} needs {name}, which was not found in {root}")]
    #[diagnostic(code(soiree::deps::library_not_found), help("{help}"))]
    LibraryNotFound {
        name: String,
        needed_by: String,
        root: PathBuf,
        /// Where the search looked, and what it skipped, for the help text.
        help: String,
    },

    #[error(
        "{script}: the interpreter {interpreter:?} is a relative path; a `#!` line needs an absolute one"
    )]
    #[diagnostic(code(soiree::deps::relative_interpreter))]
    RelativeInterpreter { script: PathBuf, interpreter: String },

    #[error("{script}: `#!` names no interpreter")]
    #[diagnostic(code(soiree::deps::empty_shebang))]
    EmptyShebang { script: PathBuf },

    #[error("{script}: `{env}` runs {name:?}, which is not on the PATH given ({path})")]
    #[diagnostic(
        code(soiree::deps::not_on_path),
        help("install {name}, or add its directory to the PATH the closure is computed with")
    )]
    NotOnPath {
        script: PathBuf,
        env: PathBuf,
        name: String,
        path: String,
    },

    #[error("{script}: interpreters nest deeper than {limit} levels (`#!` of a `#!` of …)")]
    #[diagnostic(code(soiree::deps::interpreter_depth))]
    InterpreterTooDeep { script: PathBuf, limit: usize },

    #[error("{path}: the ld.so cache is malformed: {reason}")]
    #[diagnostic(
        code(soiree::deps::ld_so_cache),
        help("regenerate it with `ldconfig -r ROOT`, or delete it so ld.so.conf is read instead")
    )]
    BadLdCache { path: PathBuf, reason: String },

    #[error("{path}: a program must be an absolute path inside the root")]
    #[diagnostic(code(soiree::deps::relative_program))]
    RelativeProgram { path: PathBuf },

    #[error("{path}: {reason}")]
    #[diagnostic(
        code(soiree::deps::tree_conflict),
        help("the package tree already holds something else at this path")
    )]
    TreeConflict { path: PathBuf, reason: String },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Tree(#[from] soiree_types::TreeError),
}

impl Error {
    /// Names the path a malformed file was opened under, with its real path beside it.
    pub(crate) fn opened_as(self, opened: &std::path::Path) -> Error {
        match self {
            Error::MalformedElf { path, reason } if path != opened => Error::MalformedElf {
                reason: format!("{reason} (the file is {})", path.display()),
                path: opened.to_path_buf(),
            },
            other => other,
        }
    }

    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}
