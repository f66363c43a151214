//! What can stop a build, each error with its class: the input was rejected, the command was
//! used wrongly, or the machine failed (exit codes 1, 2 and 3 of `docs/exit-codes.md`).

use std::path::PathBuf;

/// Whose fault an error is: the CLI turns it into the exit code, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The input (party, recipe, package, key) was rejected: exit 1.
    Rejected,
    /// The command was used wrongly (an unknown package, a bad flag value): exit 2.
    Usage,
    /// The machine failed (a file that cannot be read or written, a full disk): exit 3.
    Machine,
}

impl Class {
    pub fn exit_code(self) -> u8 {
        match self {
            Class::Rejected => 1,
            Class::Usage => 2,
            Class::Machine => 3,
        }
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BuildError {
    #[error("the party has no package `{name}` (it has: {})", known.join(", "))]
    #[diagnostic(code(soiree::build::no_package))]
    NoPackage { name: String, known: Vec<String> },

    #[error("--rebuild {name}: no source of that name is built by a command (those that are: {})", if built.is_empty() { "none".to_string() } else { built.join(", ") })]
    #[diagnostic(code(soiree::build::rebuild))]
    NotACommandSource { name: String, built: Vec<String> },

    #[error("--sysroot {}: not a directory", .0.display())]
    #[diagnostic(code(soiree::build::sysroot))]
    Sysroot(PathBuf),

    /// The package could not be planned: a diagnostic into its recipe, or a message.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Plan(soiree_plan::PlanError),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Spk(#[from] soiree_spk::Error),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(#[from] soiree_source::Error),

    /// A release build without the app's key, or a key that cannot be used.
    #[error("{message}")]
    #[diagnostic(code(soiree::build::key))]
    Key {
        message: String,
        #[help]
        help: Option<String>,
    },

    /// An output that soiree-pack did not make stands where it would write.
    #[error("{0}")]
    #[diagnostic(
        code(soiree::build::not_ours),
        help("soiree-pack replaces only what it made: move it away, or build with another --out")
    )]
    NotOurs(String),

    #[error(transparent)]
    #[diagnostic(transparent)]
    Oci(soiree_oci::OciError),

    /// Something built broke a limit `party.toml` sets: the diagnostic points at the setting.
    #[error(transparent)]
    #[diagnostic(transparent)]
    OverLimit(Box<OverLimit>),

    #[error("{}: {source}", path.display())]
    #[diagnostic(code(soiree::build::io))]
    Io { path: PathBuf, source: std::io::Error },

    /// A machine failure known only as text (a lower layer's message).
    #[error("{0}")]
    #[diagnostic(code(soiree::build::machine))]
    Machine(String),
}

impl BuildError {
    pub fn class(&self) -> Class {
        match self {
            BuildError::NoPackage { .. } | BuildError::NotACommandSource { .. } => Class::Usage,
            BuildError::Sysroot(_)
            | BuildError::Plan(_)
            | BuildError::Key { .. }
            | BuildError::NotOurs(_)
            | BuildError::OverLimit(_) => Class::Rejected,
            BuildError::Spk(e) if e.is_io() => Class::Machine,
            BuildError::Spk(_) => Class::Rejected,
            BuildError::Source(e) if e.is_io() => Class::Machine,
            BuildError::Source(_) => Class::Rejected,
            BuildError::Oci(e) if e.is_io() => Class::Machine,
            BuildError::Oci(_) => Class::Rejected,
            BuildError::Io { .. } | BuildError::Machine(_) => Class::Machine,
        }
    }

    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BuildError {
        let path = path.into();
        move |source| BuildError::Io { path, source }
    }
}

impl From<soiree_plan::PlanError> for BuildError {
    fn from(e: soiree_plan::PlanError) -> BuildError {
        BuildError::Plan(e)
    }
}

/// A diagnostic into `party.toml` about a limit it sets (its methods forwarded by hand: the
/// party error's own builder methods share the names miette's derive would call).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OverLimit(pub soiree_party::PartyError);

impl miette::Diagnostic for OverLimit {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        miette::Diagnostic::code(&self.0)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        miette::Diagnostic::help(&self.0)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        miette::Diagnostic::source_code(&self.0)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        miette::Diagnostic::labels(&self.0)
    }
}
