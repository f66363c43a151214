//! Every way writing or pushing an image can fail, as miette diagnostics with codes.

use std::path::{Path, PathBuf};

/// Writing an image layout.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum OciError {
    #[error("{}: {source}", path.display())]
    #[diagnostic(code(soiree::oci::io))]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: the file is {found} bytes now, {expected} when it was planned")]
    #[diagnostic(
        code(soiree::oci::changed),
        help("a source changed while the image was written: build again")
    )]
    Changed { path: String, expected: u64, found: u64 },
    #[error(
        "image `{reference}` is {size} bytes (compressed layers and config), over its limit of {limit} bytes"
    )]
    #[diagnostic(
        code(soiree::oci::too_big),
        help("raise `image-size-limit`, or leave files out of the package")
    )]
    TooBig {
        reference: String,
        size: u64,
        limit: u64,
    },
    /// Something soiree-pack did not make stands where the layout goes.
    #[error("{0}")]
    #[diagnostic(
        code(soiree::oci::not_ours),
        help("soiree-pack replaces only what it made: move it away, or build with another --out")
    )]
    NotOurs(String),
    #[error("{0}")]
    #[diagnostic(code(soiree::oci::spec))]
    Spec(String),
}

impl OciError {
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OciError + '_ {
        move |source| OciError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The machine's fault (exit 3) rather than the input's.
    pub fn is_io(&self) -> bool {
        matches!(self, OciError::Io { .. } | OciError::Changed { .. })
    }
}

/// Pushing an image layout to a registry.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PushError {
    #[error("{}: not an image layout soiree-pack wrote: {what}", layout.display())]
    #[diagnostic(
        code(soiree::push::layout),
        help("`soiree-pack build --target oci` writes dist/oci/PACKAGE/")
    )]
    Layout { layout: PathBuf, what: String },
    #[error("`{registry}` is not a registry HOST[:PORT]/PREFIX: {why}")]
    #[diagnostic(
        code(soiree::push::registry),
        help("for example --registry 127.0.0.1:5000/soiree or ghcr.io/v-sekai")
    )]
    Registry { registry: String, why: String },
    #[error("{}: credentials could not be read: {why}", file.display())]
    #[diagnostic(
        code(soiree::push::credentials),
        help("the file is Docker's config.json ({{\"auths\": {{\"HOST\": {{\"auth\": \"base64(user:password)\"}}}}}}); or set SOIREE_REGISTRY_USER and SOIREE_REGISTRY_PASSWORD")
    )]
    Credentials { file: PathBuf, why: String },
    #[error("the registry refused {what} of `{reference}`: {why}")]
    #[diagnostic(code(soiree::push::refused))]
    Refused {
        reference: String,
        what: String,
        why: String,
    },
    #[error("{}: {source}", path.display())]
    #[diagnostic(code(soiree::push::io))]
    Io { path: PathBuf, source: std::io::Error },
}
