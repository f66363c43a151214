//! Readers and writers that hash the bytes passing through them.

use sha2::{Digest, Sha256, Sha512};
use std::io::{self, Read, Write};

/// Forwards writes to `inner` and feeds them to SHA-512 (the archive digest that is signed).
pub struct Sha512Writer<W> {
    pub inner: W,
    pub hasher: Sha512,
    pub count: u64,
}

impl<W: Write> Sha512Writer<W> {
    pub fn new(inner: W) -> Self {
        Sha512Writer {
            inner,
            hasher: Sha512::new(),
            count: 0,
        }
    }

    pub fn finish(self) -> (W, [u8; 64], u64) {
        (self.inner, self.hasher.finalize().into(), self.count)
    }
}

impl<W: Write> Write for Sha512Writer<W> {
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

/// Forwards writes to `inner` and feeds them to SHA-256 (the package id of a written file).
pub struct Sha256Writer<W> {
    pub inner: W,
    pub hasher: Sha256,
    pub count: u64,
}

impl<W: Write> Sha256Writer<W> {
    pub fn new(inner: W) -> Self {
        Sha256Writer {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }
}

impl<W: Write> Write for Sha256Writer<W> {
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

/// Feeds every byte read from `inner` to SHA-256 (the package id of a file being read).
pub struct Sha256Reader<R> {
    pub inner: R,
    pub hasher: Sha256,
    pub count: u64,
}

impl<R: Read> Sha256Reader<R> {
    pub fn new(inner: R) -> Self {
        Sha256Reader {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }
}

impl<R: Read> Read for Sha256Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}
