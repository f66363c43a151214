//! Downloading a URL into the cache: streamed into a temporary file beside its final place while
//! hashing, and renamed to its digest only once the size and digest match the pin (when there is
//! one). A failed or mismatched download leaves nothing behind.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::digest::{copy_hashed, CopyError, Sha256};
use crate::error::{Error, Result};

/// The HTTP client: rustls for https, proxies from the environment (ureq's default), and no
/// transparent decompression, so the bytes hashed are the bytes the server sent.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(120)))
        // A stalled transfer fails instead of hanging a build; a slow one still finishes.
        .timeout_per_read(Some(Duration::from_secs(120)))
        .user_agent(format!("soiree-pack/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// Downloads `url` into `dir/<sha256>`, checking `expected` and `size` when given; returns the
/// path and the digest of what arrived.
pub(crate) fn download_to_cache(
    agent: &ureq::Agent,
    name: &str,
    url: &str,
    expected: Option<Sha256>,
    size: Option<u64>,
    dir: &Path,
) -> Result<(PathBuf, Sha256)> {
    let pin_size = size;
    let failed = |reason: String| Error::Download {
        name: name.to_string(),
        url: url.to_string(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::StatusCode(code) => failed(format!("the server answered HTTP {code}")),
        other => failed(other.to_string()),
    })?;
    let body = response.into_body();
    if let (Some(expected), Some(announced)) = (pin_size, body.content_length()) {
        if expected != announced {
            return Err(Error::SizeMismatch {
                name: name.to_string(),
                url: url.to_string(),
                expected,
                actual: announced,
            });
        }
    }
    let mut temp = tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(dir)
        .map_err(Error::io(dir))?;
    let temp_path = temp.path().to_path_buf();
    // With a pinned size, one byte more than it is enough to know the file is wrong.
    let limit = pin_size.map_or(u64::MAX, |s| s.saturating_add(1));
    let mut reader = body.into_reader().take(limit);
    let (digest, size) = copy_hashed(&mut reader, temp.as_file_mut()).map_err(|e| match e {
        CopyError::Read(e) => failed(e.to_string()),
        CopyError::Write(e) => Error::io(&temp_path)(e),
    })?;
    if let Some(expected) = pin_size {
        if size != expected {
            return Err(Error::SizeMismatch {
                name: name.to_string(),
                url: url.to_string(),
                expected,
                actual: size,
            });
        }
    }
    if let Some(expected) = expected {
        if digest != expected {
            return Err(Error::HashMismatch {
                name: name.to_string(),
                url: url.to_string(),
                expected: expected.hex(),
                actual: digest.hex(),
            });
        }
    }
    temp.as_file_mut()
        .flush()
        .and_then(|()| temp.as_file().sync_all())
        .map_err(Error::io(&temp_path))?;
    let dest = dir.join(digest.hex());
    temp.persist(&dest).map_err(|e| Error::io(&dest)(e.error))?;
    Ok((dest, digest))
}
