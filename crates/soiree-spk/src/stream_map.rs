//! Finding the blocks of a package's last xz stream from its end: footer, index, stream header.
//! `verify` uses the map to decompress blocks in parallel and `sign` to check the archive stream
//! without decompressing it. Anything unexpected gives `None`, and the caller falls back to the
//! serial reader, whose errors are the ones reported.

use std::fs::File;
use std::os::unix::fs::FileExt;

use crate::xz_format::{self, Record, HEADER_LEN};

/// The last stream of a file.
#[derive(Debug, Clone)]
pub struct StreamMap {
    /// Where its stream header starts.
    pub start: u64,
    pub header: [u8; HEADER_LEN],
    /// Each block's offset in the file and its index record, in order.
    pub blocks: Vec<(u64, Record)>,
    /// Sum of the blocks' uncompressed sizes.
    pub uncompressed: u64,
}

/// An index bigger than this is not one soiree-pack or xz would write for a package.
const MAX_INDEX: u64 = 16 << 20;
/// Stream padding looked at after the last stream.
const MAX_TAIL: u64 = 64 << 10;

pub(crate) fn read_at(file: &File, offset: u64, len: u64) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; usize::try_from(len).ok()?];
    file.read_exact_at(&mut buf, offset).ok()?;
    Some(buf)
}

/// Maps the last stream of `file` (`len` bytes), which must start at or after `first`.
pub fn map_last_stream(file: &File, len: u64, first: u64) -> Option<StreamMap> {
    let tail_len = len.checked_sub(first)?.min(MAX_TAIL);
    let tail = read_at(file, len - tail_len, tail_len)?;
    // Stream padding: groups of four zero bytes after a stream.
    let mut end = tail.len();
    while end >= 4 && tail[end - 4..end] == [0, 0, 0, 0] {
        end -= 4;
    }
    let footer_at = (len - tail_len) + end as u64;
    let footer_at = footer_at.checked_sub(HEADER_LEN as u64)?;
    let (index_len, check) = xz_format::parse_stream_footer(&read_at(file, footer_at, HEADER_LEN as u64)?)?;
    if index_len > MAX_INDEX {
        return None;
    }
    let index_at = footer_at.checked_sub(index_len)?;
    let records = xz_format::parse_index(&read_at(file, index_at, index_len)?)?;
    let blocks_len = records
        .iter()
        .try_fold(0u64, |sum, r| sum.checked_add(r.padded()))?;
    let start = index_at.checked_sub(blocks_len)?.checked_sub(HEADER_LEN as u64)?;
    if start < first {
        return None;
    }
    let header: [u8; HEADER_LEN] = read_at(file, start, HEADER_LEN as u64)?.try_into().ok()?;
    if xz_format::parse_stream_header(&header)? != check {
        return None;
    }
    let mut at = start + HEADER_LEN as u64;
    let mut uncompressed = 0u64;
    let mut blocks = Vec::with_capacity(records.len());
    for r in records {
        blocks.push((at, r));
        at += r.padded();
        uncompressed = uncompressed.checked_add(r.uncompressed)?;
    }
    Some(StreamMap {
        start,
        header,
        blocks,
        uncompressed,
    })
}

/// Checks every block header of the map without decompressing: its CRC32, and that sizes it
/// records agree with the index.
pub fn check_block_headers(file: &File, map: &StreamMap) -> bool {
    map.blocks.iter().all(|&(at, record)| {
        let check_headers = || -> Option<()> {
            let first = read_at(file, at, 1)?[0];
            let len = xz_format::block_header_len(first)? as u64;
            if len + 8 > record.unpadded {
                return None;
            }
            let bytes = read_at(file, at, len)?;
            let h = xz_format::parse_block_header(&bytes)?;
            let data_len = record
                .unpadded
                .checked_sub(len)?
                .checked_sub(xz_format::CRC64_LEN)?;
            let sizes_agree = h.uncompressed.is_none_or(|u| u == record.uncompressed)
                && h.compressed.is_none_or(|c| c == data_len);
            sizes_agree.then_some(())
        };
        check_headers().is_some()
    })
}
