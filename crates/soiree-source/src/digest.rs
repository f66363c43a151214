//! SHA-256 digests: parsing pins, printing them as cache names, and hashing while copying.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest as _, Sha256 as Hasher};

use crate::error::{Error, Result};

/// A SHA-256 digest; displayed and stored as 64 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256(pub [u8; 32]);

impl Sha256 {
    /// Parses 64 hex digits (either case); `None` for anything else.
    pub fn parse_hex(text: &str) -> Option<Sha256> {
        let text = text.trim();
        if text.len() != 64 {
            return None;
        }
        let bytes = data_encoding::HEXLOWER_PERMISSIVE.decode(text.as_bytes()).ok()?;
        bytes.try_into().ok().map(Sha256)
    }

    /// Parses a source's pin, naming the source when it is not a digest.
    pub fn parse_pin(name: &str, text: &str) -> Result<Sha256> {
        Sha256::parse_hex(text).ok_or_else(|| Error::BadSha256 {
            name: name.to_string(),
            value: text.to_string(),
        })
    }

    pub fn hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }

    /// Hashes a whole file.
    pub fn of_file(path: &Path) -> Result<Sha256> {
        let mut file = std::fs::File::open(path).map_err(Error::io(path))?;
        match copy_hashed(&mut file, &mut io::sink()) {
            Ok((digest, _)) => Ok(digest),
            Err(CopyError::Read(e) | CopyError::Write(e)) => Err(Error::io(path)(e)),
        }
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// Which side of a copy failed: a download's read errors are the network's, its write errors
/// the disk's.
#[derive(Debug)]
pub(crate) enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// Copies `from` into `to`, returning the digest of what was copied and its length.
pub(crate) fn copy_hashed(from: &mut impl Read, to: &mut impl Write) -> Result<(Sha256, u64), CopyError> {
    let mut hasher = Hasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
        total += n as u64;
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(&hasher.finalize());
    Ok((Sha256(out), total))
}
