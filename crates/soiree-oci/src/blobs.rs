//! Content-addressed blobs of an image layout (`blobs/sha256/HEX`): written through a hashing
//! writer into a temp file beside them, renamed to their digest once complete.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::OciError;

/// A writer that hashes and counts what passes through it.
pub struct Hashing<W> {
    inner: W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Hashing<W> {
    pub fn new(inner: W) -> Hashing<W> {
        Hashing {
            inner,
            hash: Sha256::new(),
            size: 0,
        }
    }

    /// The inner writer, `sha256:HEX` and the byte count.
    pub fn finish(self) -> (W, String, u64) {
        let hex = data_encoding::HEXLOWER.encode(&self.hash.finalize());
        (self.inner, format!("sha256:{hex}"), self.size)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `sha256:HEX` of some bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
    )
}

/// Where a blob of `digest` lives in the layout at `root`.
pub fn blob_path(root: &Path, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    root.join("blobs").join("sha256").join(hex)
}

/// A blob being written: a temp file in `blobs/sha256/`, named once its digest is known.
pub struct BlobWriter {
    dir: PathBuf,
    file: tempfile::NamedTempFile,
}

impl BlobWriter {
    pub fn create(root: &Path) -> Result<BlobWriter, OciError> {
        let dir = root.join("blobs").join("sha256");
        std::fs::create_dir_all(&dir).map_err(OciError::io(&dir))?;
        let file = tempfile::Builder::new()
            .prefix(".blob-")
            .tempfile_in(&dir)
            .map_err(OciError::io(&dir))?;
        Ok(BlobWriter { dir, file })
    }

    pub fn file(&mut self) -> &mut std::fs::File {
        self.file.as_file_mut()
    }

    /// Renames the blob to its digest (a blob already there has the same bytes).
    pub fn keep(self, digest: &str) -> Result<(), OciError> {
        let path = self.dir.join(digest.strip_prefix("sha256:").unwrap_or(digest));
        self.file.persist(&path).map_err(|e| OciError::Io {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(())
    }
}

/// Writes `bytes` as a blob of the layout at `root`; its digest and size.
pub fn write_bytes(root: &Path, bytes: &[u8]) -> Result<(String, u64), OciError> {
    let mut w = BlobWriter::create(root)?;
    let path = w.dir.clone();
    w.file().write_all(bytes).map_err(OciError::io(&path))?;
    let digest = digest_of(bytes);
    w.keep(&digest)?;
    Ok((digest, bytes.len() as u64))
}
