//! Every way reading, writing or signing a package can fail, as miette diagnostics.

use miette::Diagnostic;
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    #[error("{path}: {source}")]
    #[diagnostic(code(soiree::io))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    // ---- the container ----
    #[error("does not appear to be an .spk (bad magic number)")]
    #[diagnostic(
        code(soiree::spk::magic),
        help("an .spk starts with the bytes 8f c6 cd ef 45 1a ea 96")
    )]
    BadMagic,
    #[error("the xz data is corrupt: {0}")]
    #[diagnostic(code(soiree::spk::xz))]
    Xz(String),
    #[error("{what} is not a valid Cap'n Proto message: {reason}")]
    #[diagnostic(code(soiree::spk::message))]
    BadMessage { what: &'static str, reason: String },
    #[error("the package ends before its {0} message is complete")]
    #[diagnostic(code(soiree::spk::truncated))]
    Truncated(&'static str),

    // ---- the signature ----
    #[error("invalid public key: {0}")]
    #[diagnostic(code(soiree::spk::public_key))]
    InvalidPublicKey(String),
    #[error("invalid signature format: the signature field holds {0} bytes, not 128")]
    #[diagnostic(code(soiree::spk::signature_format))]
    InvalidSignatureFormat(usize),
    #[error("invalid signature")]
    #[diagnostic(code(soiree::spk::signature))]
    InvalidSignature,
    #[error("signature didn't match package contents")]
    #[diagnostic(code(soiree::spk::digest))]
    DigestMismatch,
    #[error("package is signed with an app key that has been revoked ({app_id})")]
    #[diagnostic(code(soiree::spk::revoked))]
    Revoked { app_id: String },

    // ---- the archive ----
    #[error("app too big after decompress: the archive exceeds {limit} bytes")]
    #[diagnostic(code(soiree::spk::archive_size))]
    ArchiveTooBig { limit: u64 },
    #[error("archive contained invalid file name {name:?} in {dir:?}")]
    #[diagnostic(
        code(soiree::spk::file_name),
        help("a name must be non-empty, not `.` or `..`, and hold no `/` or NUL")
    )]
    InvalidFileName { dir: String, name: String },
    #[error("archive contains a name of {len} bytes in {dir:?} (starting {start:?}); a file system takes at most 255")]
    #[diagnostic(
        code(soiree::spk::name_length),
        help("unpacking it would fail: Linux refuses names longer than 255 bytes")
    )]
    NameTooLong { dir: String, start: String, len: usize },
    #[error("archive contains an invalid symlink {path:?}: {reason}")]
    #[diagnostic(
        code(soiree::spk::symlink),
        help("unpacking it would fail: a symlink's target must be 1 to 4095 bytes without NUL")
    )]
    InvalidSymlink { path: String, reason: String },
    #[error("archive contained duplicate file name {0:?}")]
    #[diagnostic(code(soiree::spk::duplicate))]
    DuplicateFileName(String),
    #[error("archive is malformed at {path:?}: {reason}")]
    #[diagnostic(code(soiree::spk::archive))]
    MalformedArchive { path: String, reason: String },
    #[error("SPK contains no manifest file")]
    #[diagnostic(
        code(soiree::spk::no_manifest),
        help("a package needs a top-level regular file `sandstorm-manifest`")
    )]
    NoManifest,
    #[error("sandstorm-manifest is not a regular file")]
    #[diagnostic(code(soiree::spk::manifest_kind))]
    ManifestNotRegular,
    #[error("the manifest is invalid: {0}")]
    #[diagnostic(code(soiree::spk::manifest))]
    InvalidManifest(String),
    #[error("the manifest is {size} bytes; Sandstorm's limit is {limit}")]
    #[diagnostic(code(soiree::spk::manifest_size))]
    ManifestTooBig { size: u64, limit: u64 },

    // ---- packing ----
    #[error("{path}: a file must be smaller than 512 MiB; this one has {size} bytes")]
    #[diagnostic(
        code(soiree::pack::file_size),
        help("split it, or serve it from outside the package")
    )]
    FileTooBig { path: String, size: u64 },
    /// Reading the tree to pack (a file of a kind a package cannot hold, a file that changed
    /// while it was read, a reserved path): soiree-types' error, as it is.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Tree(#[from] soiree_types::TreeError),
    #[error("a directory is nested deeper than {0} levels")]
    #[diagnostic(code(soiree::spk::nesting))]
    TooDeep(u32),

    // ---- unpacking ----
    #[error("{0}: already exists; unpack writes only to a new directory")]
    #[diagnostic(code(soiree::unpack::exists))]
    TargetExists(PathBuf),

    // ---- keys ----
    #[error("keyring {path}: entry at byte {offset}: {reason}")]
    #[diagnostic(code(soiree::keys::corrupt))]
    CorruptKeyring {
        path: PathBuf,
        offset: usize,
        reason: String,
    },
    #[error("{path} {what}: entry at byte {offset}: {reason}; no key was added")]
    #[diagnostic(
        code(soiree::keys::refused),
        help(
            "keygen only appends to a valid keyring, so that every key in it can be listed and \
             exported again; pass a new file with --keyring, or move this one away"
        )
    )]
    RefusedKeyring {
        path: PathBuf,
        what: String,
        offset: usize,
        reason: String,
    },
    #[error("{path} is a {kind}, not a regular file")]
    #[diagnostic(
        code(soiree::not_a_file),
        help("a keyring must be a regular file; move this one away or pass another with --keyring")
    )]
    NotARegularFile { path: PathBuf, kind: &'static str },
    #[error("{path} is readable by others (mode {mode:04o}) and its mode cannot be set to 0600: {source}")]
    #[diagnostic(
        code(soiree::keys::mode),
        help("a keyring holds private keys: `chmod 600` it as its owner, or pass another with --keyring")
    )]
    KeyringMode {
        path: PathBuf,
        mode: u32,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: already exists; `keys export -o` writes only a new file")]
    #[diagnostic(
        code(soiree::keys::exists),
        help("name a file that does not exist yet; an existing file is never overwritten")
    )]
    KeyFileExists(PathBuf),
    #[error("{app_id}: key not found in keyring {path}")]
    #[diagnostic(
        code(soiree::keys::not_found),
        help("`soiree-pack keys list --keyring PATH` shows the app ids a keyring holds")
    )]
    KeyNotFound { app_id: String, path: PathBuf },
    #[error("there is no signing key in {0}")]
    #[diagnostic(
        code(soiree::keys::empty),
        help("create one with `soiree-pack keygen --keyring PATH`, or set SOIREE_SIGNING_KEY")
    )]
    EmptyKeyring(PathBuf),
    #[error("keyring {path} holds {count} keys; say which one signs with --app-id")]
    #[diagnostic(code(soiree::keys::ambiguous))]
    AmbiguousKey { path: PathBuf, count: usize },
    #[error("SOIREE_SIGNING_KEY is not a base64 KeyFile message: {0}")]
    #[diagnostic(
        code(soiree::keys::env),
        help("set it to the output of `soiree-pack keys export APP_ID | base64 -w0`")
    )]
    BadEnvKey(String),
    #[error("SOIREE_SIGNING_KEY holds the key of {found}, not of {wanted}")]
    #[diagnostic(code(soiree::keys::env_mismatch))]
    EnvKeyMismatch { found: String, wanted: String },
    #[error("not an app id: {0}")]
    #[diagnostic(
        code(soiree::keys::app_id),
        help("an app id is 52 characters of Sandstorm base32")
    )]
    BadAppId(String),
    #[error("refusing to write a private key to a terminal")]
    #[diagnostic(
        code(soiree::keys::tty),
        help("write it to a new file of mode 0600 with `-o key.keyring`")
    )]
    KeyToTerminal,
}

impl Error {
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    pub(crate) fn message(what: &'static str) -> impl FnOnce(capnp::Error) -> Error {
        move |e| Error::BadMessage {
            what,
            reason: e.to_string(),
        }
    }

    /// Whether this error says something about the input (exit 1) rather than the machine (exit 3).
    pub fn is_io(&self) -> bool {
        matches!(
            self,
            Error::Io { .. } | Error::KeyringMode { .. } | Error::Tree(soiree_types::TreeError::Io { .. })
        )
    }
}
