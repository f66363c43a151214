//! A writer and a reader that feed every byte passing through them to a hash: SHA-512 for the
//! archive digest that is signed, SHA-256 for the package id of a file written or read.

use sha2::Digest;
use std::io::{self, Read, Write};

/// Forwards writes to `inner` and feeds them to `D`.
pub struct HashingWriter<W, D> {
    pub inner: W,
    pub hasher: D,
    pub count: u64,
}

impl<W: Write, D: Digest> HashingWriter<W, D> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: D::new(),
            count: 0,
        }
    }
}

impl<W: Write> HashingWriter<W, sha2::Sha512> {
    /// The inner writer, the SHA-512 of everything written, and its length.
    pub fn finish(self) -> (W, [u8; 64], u64) {
        (self.inner, self.hasher.finalize().into(), self.count)
    }
}

impl<W: Write, D: Digest> Write for HashingWriter<W, D> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Feeds every byte read from `inner` to `D`.
pub struct HashingReader<R, D> {
    pub inner: R,
    pub hasher: D,
    pub count: u64,
}

impl<R: Read, D: Digest> HashingReader<R, D> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: D::new(),
            count: 0,
        }
    }
}

impl<R: Read, D: Digest> Read for HashingReader<R, D> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

pub type Sha512Writer<W> = HashingWriter<W, sha2::Sha512>;
pub type Sha256Writer<W> = HashingWriter<W, sha2::Sha256>;
pub type Sha256Reader<R> = HashingReader<R, sha2::Sha256>;
