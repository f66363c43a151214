//! Where the archive stream is cut into xz blocks. Boundaries follow the archive's own structure,
//! so a file that did not change gives the same blocks (and cache hits) when offsets elsewhere
//! shift:
//!
//! - a regular file of at least [`OWN_BLOCK_MIN`] starts a block at its name and ends one after its
//!   content; inside, a new block starts every [`BIG_CHUNK`] bytes counted from its first byte.
//!   (Directory tables, whose offsets change whenever a file before them changes size, so never
//!   share a block with a big file's bytes);
//! - everything else (directory tables, names, small files, symlinks) is grouped: a group ends
//!   before an entry once it holds [`GROUP_MIN`] bytes and the entry's name hashes to a cut
//!   (one name in four), or once it holds [`GROUP_MAX`]; [`HARD_MAX`] bounds any block.
//!
//! Sizes were chosen on trees of shared libraries against `xz -6 -T2` (24 MiB blocks): blocks of
//! a few MiB that start at file boundaries cost well under 1% in size, compress faster per byte
//! (smaller match-finder tables) and balance two workers better; see docs/ARCHITECTURE.md.

use std::io::{self, Write};

use sha2::{Digest, Sha256, Sha512};

use crate::block_pool::Submitter;
use crate::encode::ArchiveSink;
use crate::error::Error;

pub const OWN_BLOCK_MIN: u64 = 1 << 20;
pub const BIG_CHUNK: usize = 8 << 20;
pub const GROUP_MIN: usize = 2 << 20;
pub const GROUP_MAX: usize = 4 << 20;
pub const HARD_MAX: usize = 8 << 20;

/// Cuts the stream into blocks and hands them to the compressors; hashes the archive on the way.
pub struct Splitter<'s, 'a, W: Write> {
    submitter: &'s mut Submitter<'a, W>,
    buf: Vec<u8>,
    in_big_file: bool,
    /// Bytes in `buf` before the big file's first byte: its chunks count from there.
    prefix: usize,
    sha512: Sha512,
    /// The first error of the compression side, returned instead of the I/O error the encoder
    /// sees.
    pub failed: Option<Error>,
}

impl<'s, 'a, W: Write> Splitter<'s, 'a, W> {
    pub fn new(submitter: &'s mut Submitter<'a, W>) -> Self {
        Splitter {
            submitter,
            buf: Vec::new(),
            in_big_file: false,
            prefix: 0,
            sha512: Sha512::new(),
            failed: None,
        }
    }

    fn cut(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.prefix = 0;
        let block = std::mem::take(&mut self.buf);
        self.submitter.submit(block).map_err(|e| {
            let text = e.to_string();
            self.failed.get_or_insert(e);
            io::Error::other(text)
        })
    }

    /// Submits the last block; returns the archive's SHA-512.
    pub fn finish(mut self) -> Result<[u8; 64], Error> {
        if let Err(e) = self.cut() {
            return Err(self.failed.take().unwrap_or(Error::Io {
                path: "archive stream".into(),
                source: e,
            }));
        }
        Ok(self.sha512.finalize().into())
    }
}

impl<W: Write> Write for Splitter<'_, '_, W> {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let n = data.len();
        self.sha512.update(data);
        while !data.is_empty() {
            let cap = if self.in_big_file {
                self.prefix + BIG_CHUNK
            } else {
                HARD_MAX
            };
            if self.buf.is_empty() {
                // Reserved, not touched: pages are only used as bytes arrive.
                self.buf.reserve(cap);
            }
            let take = data.len().min(cap.saturating_sub(self.buf.len()));
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() >= cap {
                self.cut()?;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn name_cuts(name: &[u8]) -> bool {
    Sha256::digest(name)[0] & 3 == 0
}

impl<W: Write> ArchiveSink for Splitter<'_, '_, W> {
    fn entry(&mut self, name: &[u8], file_size: Option<u64>) -> io::Result<()> {
        let len = self.buf.len();
        // A big file's block starts at its name: names do not change when offsets do, while the
        // tables before it do.
        let big = file_size.is_some_and(|s| s >= OWN_BLOCK_MIN);
        if big || len >= GROUP_MAX || (len >= GROUP_MIN && name_cuts(name)) {
            self.cut()?;
        }
        Ok(())
    }

    fn file_content(&mut self, size: u64) -> io::Result<()> {
        if size >= OWN_BLOCK_MIN {
            // The file's chunks count from its own first byte, after the name.
            self.prefix = self.buf.len();
            self.in_big_file = true;
        }
        Ok(())
    }

    fn file_end(&mut self) -> io::Result<()> {
        if self.in_big_file {
            self.in_big_file = false;
            self.cut()?;
        }
        Ok(())
    }
}
