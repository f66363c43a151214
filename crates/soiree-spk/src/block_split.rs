//! Where the archive stream is cut into xz blocks. Boundaries follow the archive's own structure,
//! so a file that did not change gives the same blocks (and cache hits) when offsets elsewhere
//! shift:
//!
//! - the tree's metadata (directory tables, names, symlink targets), which encode.rs writes
//!   before every file's bytes, ends a block of its own: a changed mtime or size, which changes
//!   table pointers, then recompresses only that small block;
//! - a regular file of at least [`OWN_BLOCK_MIN`] starts a block at its first byte and ends one
//!   after its content; inside, a new block starts every [`BIG_CHUNK`] bytes counted from there;
//! - a file of at least [`CLOSING_MIN`] ends the block it joins; more than
//!   [`CLOSING_PREFIX_MAX`] bytes waiting before it are first a block of their own: changing a library of a megabyte or two then recompresses
//!   at most 2 MiB besides its own bytes, while it still sees some neighbours' bytes (alone,
//!   such files cost 0.42% of size on shared libraries; after up to 1 MiB of neighbours 0.32%, after
//!   up to 2 MiB 0.24%);
//! - smaller files are grouped. A group ends before the file, among those starting between
//!   [`GROUP_MIN`] and [`GROUP_MAX`] bytes into it, whose name has the smallest hash. The choice
//!   is made once the group reaches [`GROUP_MAX`]; the bytes after the chosen file start the next
//!   group. When an early file changes size, the window moves by that much only, so the same name
//!   usually wins and later groups are byte for byte what they were (a plain "first file past N
//!   bytes" rule would move every later cut). [`HARD_MAX`] bounds a group that one large entry
//!   (or a large tree's metadata) overfills.
//!
//! Blocks are plain LZMA2, which every `.xz` reader handles. Only when asked (`--x86-filter`) is a
//! block more than half of whose bytes come from x86 or x86-64 ELF files compressed with xz's x86
//! branch filter before LZMA2 (`xz --x86 --lzma2`): `xz -dc` undoes it, readers without BCJ
//! filters (Tempest's) cannot.
//!
//! Sizes were chosen on trees of shared libraries against `xz -6 -T2` (24 MiB blocks), plain
//! LZMA2 on both sides: an independent block loses the matches its neighbours would have offered,
//! so files under 1 MB share groups of 3–5 MiB, files of 1 MB–2 MiB end a block after some of
//! their neighbours rather than sit alone, and big files are whole up to 8 MiB. That matches xz's size while a one-file change still recompresses
//! only a group of a few MiB; see docs/ARCHITECTURE.md.

use std::io::{self, Write};

use sha2::{Digest, Sha256, Sha512};

use crate::block_pool::Submitter;
use crate::encode::ArchiveSink;
use crate::error::Error;

pub const OWN_BLOCK_MIN: u64 = 2 << 20;
pub const CLOSING_MIN: u64 = 1_000_000;
pub const CLOSING_PREFIX_MAX: usize = 2 << 20;
pub const BIG_CHUNK: usize = 8 << 20;
pub const GROUP_MIN: usize = 3 << 20;
pub const GROUP_MAX: usize = 5 << 20;
pub const HARD_MAX: usize = 6 << 20;

/// Cuts the stream into blocks and hands them to the compressors; hashes the archive on the way.
pub struct Splitter<'s, 'a, W: Write> {
    submitter: &'s mut Submitter<'a, W>,
    buf: Vec<u8>,
    in_big_file: bool,
    /// The file being written ends its block.
    closing: bool,
    /// The next write starts a regular file's content.
    sniff: bool,
    /// Whether machine code may get the x86 filter at all.
    x86_filter: bool,
    /// The file being written is x86 or x86-64 ELF.
    in_code: bool,
    /// Bytes of such files in `buf`: a block that is mostly machine code gets the x86 filter.
    code_bytes: usize,
    /// The best place to end the current group so far: where in `buf`, the name's hash, and
    /// `code_bytes` at that point.
    best: Option<(usize, u64, usize)>,
    sha512: Sha512,
    /// The first error of the compression side, returned instead of the I/O error the encoder
    /// sees.
    pub failed: Option<Error>,
}

impl<'s, 'a, W: Write> Splitter<'s, 'a, W> {
    /// `x86_filter`: give blocks that are mostly x86 machine code xz's x86 filter.
    pub fn new(submitter: &'s mut Submitter<'a, W>, x86_filter: bool) -> Self {
        Splitter {
            submitter,
            buf: Vec::new(),
            in_big_file: false,
            closing: false,
            sniff: false,
            x86_filter,
            in_code: false,
            code_bytes: 0,
            best: None,
            sha512: Sha512::new(),
            failed: None,
        }
    }

    /// Submits everything buffered as one block.
    fn cut(&mut self) -> io::Result<()> {
        self.best = None;
        if self.buf.is_empty() {
            return Ok(());
        }
        let x86 = self.code_bytes * 2 > self.buf.len();
        self.code_bytes = 0;
        let block = std::mem::take(&mut self.buf);
        self.submit(block, x86)
    }

    /// Ends the group at the best place found, keeping what follows for the next one; or
    /// submits it whole if there is no such place.
    fn cut_group(&mut self) -> io::Result<()> {
        let Some((at, _, code)) = self.best.take().filter(|b| b.0 > 0) else {
            return self.cut();
        };
        let mut rest = Vec::with_capacity(HARD_MAX);
        rest.extend_from_slice(&self.buf[at..]);
        let mut block = std::mem::replace(&mut self.buf, rest);
        block.truncate(at);
        self.code_bytes -= code;
        self.submit(block, code * 2 > at)
    }

    fn submit(&mut self, block: Vec<u8>, x86: bool) -> io::Result<()> {
        self.submitter.submit(block, x86).map_err(|e| {
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
        if self.sniff {
            self.sniff = false;
            self.in_code = self.x86_filter && is_x86_elf(data);
        }
        while !data.is_empty() {
            let cap = if self.in_big_file { BIG_CHUNK } else { HARD_MAX };
            if self.buf.is_empty() {
                // Reserved, not touched: pages are only used as bytes arrive.
                self.buf.reserve(cap);
            }
            let take = data.len().min(cap.saturating_sub(self.buf.len()));
            self.buf.extend_from_slice(&data[..take]);
            if self.in_code {
                self.code_bytes += take;
            }
            data = &data[take..];
            if self.buf.len() >= cap {
                if self.in_big_file {
                    self.cut()?;
                } else {
                    self.cut_group()?;
                }
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An ELF file for x86 or x86-64 (`e_machine` 3 or 62), judged by its first bytes.
fn is_x86_elf(head: &[u8]) -> bool {
    head.len() >= 20
        && head[..4] == *b"\x7fELF"
        && head[5] == 1
        && matches!(u16::from_le_bytes([head[18], head[19]]), 3 | 62)
}

fn name_hash(name: &[u8]) -> u64 {
    let h = Sha256::digest(name);
    u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

impl<W: Write> ArchiveSink for Splitter<'_, '_, W> {
    fn entry(&mut self, name: &[u8], file_size: Option<u64>) -> io::Result<()> {
        if file_size.is_some_and(|s| s >= OWN_BLOCK_MIN) {
            return self.cut();
        }
        if file_size.is_some_and(|s| s >= CLOSING_MIN) {
            if self.buf.len() > CLOSING_PREFIX_MAX {
                self.cut()?;
            }
            // Under HARD_MAX with the file in it, and ended after it: no other rule cuts it.
            self.closing = true;
            return Ok(());
        }
        if self.buf.len() >= GROUP_MAX {
            self.cut_group()?;
        }
        let len = self.buf.len();
        if (GROUP_MIN..GROUP_MAX).contains(&len) {
            let h = name_hash(name);
            if self.best.is_none_or(|b| h < b.1) {
                self.best = Some((len, h, self.code_bytes));
            }
        }
        Ok(())
    }

    fn file_content(&mut self, size: u64) -> io::Result<()> {
        self.sniff = size > 0;
        if size >= OWN_BLOCK_MIN {
            // entry() cut before it, so its chunks count from its own first byte.
            self.in_big_file = true;
        }
        Ok(())
    }

    fn metadata_end(&mut self) -> io::Result<()> {
        self.cut()
    }

    fn file_end(&mut self) -> io::Result<()> {
        self.sniff = false;
        self.in_code = false;
        if std::mem::take(&mut self.closing) | std::mem::take(&mut self.in_big_file) {
            self.cut()?;
        }
        Ok(())
    }
}
