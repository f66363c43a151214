//! Reading and checking the `sandstorm-manifest` message the way `spk verify` and `spk pack` do.

use soiree_schema::manifest_capnp::manifest;
use soiree_schema::util_capnp::localized_text;

use crate::error::{Error, Result};
use crate::limits;
use crate::message;

/// What a package's manifest says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestInfo {
    pub title: Option<String>,
    pub app_version: u32,
    pub marketing_version: Option<String>,
    pub min_upgradable_app_version: u32,
    pub min_api_version: u32,
    pub max_api_version: u32,
    pub website: Option<String>,
    pub code_url: Option<String>,
    pub has_pgp_signature: bool,
    pub has_pgp_keyring: bool,
    pub continue_argv: Vec<String>,
    pub action_count: usize,
}

fn text(r: capnp::Result<capnp::text::Reader>) -> Option<String> {
    r.ok().map(|t| String::from_utf8_lossy(t.as_bytes()).into_owned())
}

fn localized(r: capnp::Result<localized_text::Reader>, has: bool) -> Option<String> {
    if !has {
        return None;
    }
    r.ok().and_then(|l| {
        if l.has_default_text() {
            text(l.get_default_text())
        } else {
            None
        }
    })
}

fn is_http_url(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// Parses a framed `Manifest` message with Sandstorm's 8 MiB traversal limit and applies
/// `spk verify`'s checks (http(s) URLs; a PGP signature needs a keyring).
pub fn read(bytes: &[u8]) -> Result<ManifestInfo> {
    let bad = |e: capnp::Error| Error::InvalidManifest(e.to_string());
    let words = message::aligned(bytes);
    let mut opts = capnp::message::ReaderOptions::new();
    opts.traversal_limit_in_words(Some(limits::MAX_MANIFEST_WORDS as usize));
    // `spk verify` copies the title, the marketing version and the whole metadata into its
    // report, so a broken pointer (or too much data) anywhere in them rejects the package.
    // That copy gets a reader of its own, so the reads below are not counted twice.
    {
        let mut slice = capnp::Word::words_to_bytes(&words);
        let msg = capnp::serialize::read_message_from_flat_slice(&mut slice, opts).map_err(bad)?;
        let m = msg.get_root::<manifest::Reader>().map_err(bad)?;
        m.get_app_title().and_then(|t| t.total_size()).map_err(bad)?;
        m.get_app_marketing_version()
            .and_then(|t| t.total_size())
            .map_err(bad)?;
        m.get_metadata().and_then(|t| t.total_size()).map_err(bad)?;
    }
    let mut slice = capnp::Word::words_to_bytes(&words);
    let msg = capnp::serialize::read_message_from_flat_slice(&mut slice, opts).map_err(bad)?;
    let m = msg.get_root::<manifest::Reader>().map_err(bad)?;
    let meta = m.get_metadata().map_err(bad)?;
    let author = meta.get_author();
    let info = ManifestInfo {
        title: localized(m.get_app_title(), m.has_app_title()),
        app_version: m.get_app_version(),
        marketing_version: localized(m.get_app_marketing_version(), m.has_app_marketing_version()),
        min_upgradable_app_version: m.get_min_upgradable_app_version(),
        min_api_version: m.get_min_api_version(),
        max_api_version: m.get_max_api_version(),
        website: if meta.has_website() {
            text(meta.get_website())
        } else {
            None
        },
        code_url: if meta.has_code_url() {
            text(meta.get_code_url())
        } else {
            None
        },
        has_pgp_signature: author.has_pgp_signature(),
        has_pgp_keyring: meta.has_pgp_keyring(),
        continue_argv: m
            .get_continue_command()
            .ok()
            .and_then(|c| c.get_argv().ok())
            .map(|argv| argv.iter().filter_map(text).collect())
            .unwrap_or_default(),
        action_count: m.get_actions().map(|a| a.len() as usize).unwrap_or(0),
    };
    for (field, url) in [("website", &info.website), ("codeUrl", &info.code_url)] {
        if let Some(url) = url {
            if !is_http_url(url) {
                return Err(Error::InvalidManifest(format!(
                    "metadata.{field} {url:?} is not an http(s) URL"
                )));
            }
        }
    }
    if info.has_pgp_signature && !info.has_pgp_keyring {
        return Err(Error::InvalidManifest(
            "author.pgpSignature is set but metadata.pgpKeyring is not".into(),
        ));
    }
    Ok(info)
}

/// `spk pack`'s extra checks on a manifest it is about to package.
pub fn check_for_packing(bytes: &[u8]) -> Result<ManifestInfo> {
    let limit = limits::MAX_MANIFEST_WORDS * 8;
    if bytes.len() as u64 > limit {
        return Err(Error::ManifestTooBig {
            size: bytes.len() as u64,
            limit,
        });
    }
    if !bytes.len().is_multiple_of(8) {
        return Err(Error::InvalidManifest(format!(
            "{} bytes is not a whole number of 8-byte words; is it a framed Cap'n Proto message?",
            bytes.len()
        )));
    }
    let info = read(bytes)?;
    if info.title.is_none() {
        return Err(Error::InvalidManifest("missing `appTitle`".into()));
    }
    if info.marketing_version.is_none() {
        return Err(Error::InvalidManifest("missing `appMarketingVersion`".into()));
    }
    if info.min_api_version > 0 || info.max_api_version > 0 {
        return Err(Error::InvalidManifest(
            "minApiVersion and maxApiVersion must be 0: Sandstorm defines no later API version".into(),
        ));
    }
    Ok(info)
}
