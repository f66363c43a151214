//! Every way fetching, unpacking or mapping a source can fail, as miette diagnostics. Each one
//! names the source, and the file and archive member where there is one.

use miette::Diagnostic;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error("{path}: {source}")]
    #[diagnostic(code(soiree::source::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    // ---- describing a source ----
    #[error("source {name:?}: {value:?} is not a SHA-256 digest")]
    #[diagnostic(
        code(soiree::source::sha256),
        help("a sha256 is 64 hexadecimal digits, as `sha256sum FILE` prints them")
    )]
    BadSha256 { name: String, value: String },
    #[error("source {name:?}: {what} only applies to archives, and {location} is not one")]
    #[diagnostic(
        code(soiree::source::not_archive),
        help("archives are recognised by their names: .tar, .tar.gz, .tgz, .tar.xz, .txz, .zip")
    )]
    NotAnArchive {
        name: String,
        location: String,
        what: &'static str,
    },
    #[error("source {name:?}: {path}: no such file or directory")]
    #[diagnostic(code(soiree::source::missing))]
    LocalMissing { name: String, path: PathBuf },
    #[error("source {name:?}: sub-path {sub_path:?} {reason}")]
    #[diagnostic(code(soiree::source::sub_path))]
    SubPath {
        name: String,
        sub_path: String,
        reason: String,
    },

    // ---- sources built by a command ----
    #[error("source {name:?}: the command needs `{tool}`, which is not on PATH")]
    #[diagnostic(code(soiree::source::missing_tool), help("{help}"))]
    MissingTool {
        name: String,
        tool: String,
        help: String,
    },
    #[error("source {name:?}: `{command}` failed ({status}); its last lines:\n{tail}")]
    #[diagnostic(
        code(soiree::source::command_failed),
        help("the command runs in a copy of its folder with only that copy (and its HOME) writable")
    )]
    CommandFailed {
        name: String,
        command: String,
        status: String,
        tail: String,
    },
    #[error("source {name:?}: {reason}")]
    #[diagnostic(code(soiree::source::command_input))]
    CommandInput { name: String, reason: String },
    #[error("source {name:?}: the command's output {path:?} {reason}")]
    #[diagnostic(
        code(soiree::source::command_output),
        help("a command source's output is checked like an archive: files, directories and symlinks that stay inside it")
    )]
    CommandOutput {
        name: String,
        path: PathBuf,
        reason: String,
    },
    #[error("source {name:?} is built by a command that needs the network, and the build is offline")]
    #[diagnostic(
        code(soiree::source::command_offline),
        help("build once online; the output is cached and reused offline after that")
    )]
    CommandOffline { name: String },

    // ---- the cache and the network ----
    #[error("no cache directory: neither XDG_CACHE_HOME nor HOME is set")]
    #[diagnostic(
        code(soiree::source::no_cache),
        help("set XDG_CACHE_HOME, or give a cache directory explicitly")
    )]
    NoCacheDir,
    #[error("source {name:?} ({url}) is not in the cache, and the build is offline")]
    #[diagnostic(
        code(soiree::source::offline),
        help(
            "run `soiree-pack lock` while online to download every pinned source into the cache, \
             or build once online"
        )
    )]
    Offline { name: String, url: String },
    #[error("source {name:?}: downloading {url} failed: {reason}")]
    #[diagnostic(code(soiree::source::http))]
    Download {
        name: String,
        url: String,
        reason: String,
    },
    #[error("source {name:?}: {url} has sha256 {actual}, but {expected} was expected")]
    #[diagnostic(
        code(soiree::source::hash_mismatch),
        help(
            "the file upstream is not the one that was pinned; if the change is expected, \
             update the sha256 after checking the new file"
        )
    )]
    HashMismatch {
        name: String,
        url: String,
        expected: String,
        actual: String,
    },
    #[error("source {name:?}: {url} is {actual} bytes, but the pinned size is {expected}")]
    #[diagnostic(code(soiree::source::size_mismatch))]
    SizeMismatch {
        name: String,
        url: String,
        expected: u64,
        actual: u64,
    },

    // ---- the lock file ----
    #[error("{path}: {reason}")]
    #[diagnostic(code(soiree::source::lock_file))]
    BadLock { path: PathBuf, reason: String },
    #[error("source {name:?} ({url}) is pinned to sha256 {pinned}, but {path} records {locked}")]
    #[diagnostic(
        code(soiree::source::lock_mismatch),
        help("if the new pin is intended, run `soiree-pack lock` to record it")
    )]
    LockMismatch {
        name: String,
        url: String,
        pinned: String,
        locked: String,
        path: PathBuf,
    },

    // ---- archives ----
    #[error("source {name:?}: archive {archive} is corrupt: {reason}")]
    #[diagnostic(code(soiree::source::corrupt_archive))]
    CorruptArchive {
        name: String,
        archive: PathBuf,
        reason: String,
    },
    #[error("source {name:?}: archive {archive}: member {member:?} {reason}")]
    #[diagnostic(
        code(soiree::source::unsafe_member),
        help("extraction never writes outside its directory; the archive has to be fixed upstream")
    )]
    UnsafeMember {
        name: String,
        archive: PathBuf,
        member: String,
        reason: String,
    },
    #[error(
        "source {name:?}: archive {archive}: member {member:?} is a {kind}, which a package cannot hold"
    )]
    #[diagnostic(code(soiree::source::member_type))]
    UnsupportedMember {
        name: String,
        archive: PathBuf,
        member: String,
        kind: String,
    },

    // ---- mapping files into a package ----
    #[error("source {name:?}: {from:?} {reason}")]
    #[diagnostic(code(soiree::source::from))]
    BadFrom {
        name: String,
        from: String,
        reason: String,
    },
    #[error("invalid glob {pattern:?}: {reason}")]
    #[diagnostic(
        code(soiree::source::glob),
        help("globs match paths relative to `from`; `*` stays within one directory, `**` crosses them")
    )]
    BadGlob { pattern: String, reason: String },
    #[error("{to:?} is not a valid path in a package: {reason}")]
    #[diagnostic(code(soiree::source::to))]
    BadTarget { to: String, reason: String },
    #[error("{path}: cannot put a {kind} in a package")]
    #[diagnostic(
        code(soiree::source::file_type),
        help("a package holds regular files, executables, symlinks and directories only")
    )]
    UnsupportedFileType { path: PathBuf, kind: &'static str },
    #[error("{path} ({second}) needs {parent} to be a directory, but {first} puts a {kind} there")]
    #[diagnostic(
        code(soiree::source::not_a_directory),
        help("map one of them elsewhere, or exclude the file that is in the way")
    )]
    NotADirectory {
        path: String,
        parent: String,
        kind: &'static str,
        first: String,
        second: String,
    },
    #[error("{path} is claimed twice, with different contents: by {first} and by {second}")]
    #[diagnostic(
        code(soiree::source::conflict),
        help("narrow one of the mappings with `exclude`, or map one of them elsewhere")
    )]
    Conflict {
        path: String,
        first: String,
        second: String,
    },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    /// Whether this error says something about the machine (disk, permissions) rather than the
    /// inputs, following `soiree_spk::Error::is_io`.
    pub fn is_io(&self) -> bool {
        matches!(self, Error::Io { .. })
    }
}

/// Converts a walkdir failure, which may not carry an I/O error, into ours.
pub(crate) fn walk_error(root: &std::path::Path, e: walkdir::Error) -> Error {
    let path = e.path().unwrap_or(root).to_path_buf();
    let source = e
        .into_io_error()
        .unwrap_or_else(|| std::io::Error::other("directory walk failed (a symlink loop?)"));
    Error::Io { path, source }
}
