//! How reading a tree from disk can fail. soiree-spk turns each into its own error of the same
//! name, so packing reports them as before.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TreeError {
    #[error("{path}: {source}")]
    #[diagnostic(code(soiree::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot pack a {kind}")]
    #[diagnostic(
        code(soiree::pack::file_type),
        help("a package holds regular files, executables, symlinks and directories only")
    )]
    UnsupportedFileType { path: PathBuf, kind: &'static str },
    #[error("{path}: changed while it was being packed")]
    #[diagnostic(
        code(soiree::pack::changed),
        help("pack again once nothing writes to the tree")
    )]
    FileChanged { path: PathBuf },
    #[error("{path:?} is reserved in a package: Sandstorm mounts {what} there, so it must be a directory")]
    #[diagnostic(code(soiree::pack::reserved))]
    Reserved { path: String, what: &'static str },
}

impl TreeError {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TreeError {
        let path = path.into();
        move |source| TreeError::Io { path, source }
    }
}
