//! The parts of the .xz container (XZ Utils' "xz-file-format" 1.x) that soiree-pack writes and
//! reads itself: stream header and footer, block headers, the index, variable-length integers.
//!
//! liblzma compresses and checks each block; this module only frames blocks into one stream and
//! finds them again, so that blocks can be compressed, cached and decompressed independently.

use crc::{Crc, Table, CRC_32_ISO_HDLC, CRC_64_XZ};

pub const HEADER_MAGIC: [u8; 6] = [0xFD, b'7', b'z', b'X', b'Z', 0x00];
pub const FOOTER_MAGIC: [u8; 2] = *b"YZ";
/// Stream header and footer are both 12 bytes.
pub const HEADER_LEN: usize = 12;
/// Check ID 0x04: CRC64, 8 bytes after each block.
pub const CHECK_CRC64: u8 = 0x04;
pub const CRC64_LEN: u64 = 8;

pub static CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);
/// Slice-by-16: the check of every block's uncompressed bytes runs at memory speed.
pub static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_XZ);

/// One block as the index records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Header + compressed data + check, without block padding.
    pub unpadded: u64,
    pub uncompressed: u64,
}

impl Record {
    /// Bytes the block takes in the stream, padding included.
    pub fn padded(&self) -> u64 {
        self.unpadded.div_ceil(4) * 4
    }
}

pub fn put_vli(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a variable-length integer at `*pos`: at most 9 bytes, minimal encoding only.
pub fn get_vli(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for i in 0..9 {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            // A trailing zero byte would be a second encoding of the same value.
            return (i == 0 || b != 0).then_some(v);
        }
    }
    None
}

fn pad4(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn push_crc32(out: &mut Vec<u8>, from: usize) {
    let crc = CRC32.checksum(&out[from..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

pub fn stream_header(check: u8) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..6].copy_from_slice(&HEADER_MAGIC);
    h[7] = check;
    let crc = CRC32.checksum(&h[6..8]);
    h[8..].copy_from_slice(&crc.to_le_bytes());
    h
}

/// The stream flags (check id) of a valid stream header.
pub fn parse_stream_header(h: &[u8]) -> Option<u8> {
    let ok = h.len() == HEADER_LEN
        && h[..6] == HEADER_MAGIC
        && h[6] == 0
        && h[7] < 0x10
        && CRC32.checksum(&h[6..8]).to_le_bytes() == h[8..12];
    ok.then_some(h[7])
}

pub fn stream_footer(index_len: u64, check: u8) -> [u8; HEADER_LEN] {
    let mut f = [0u8; HEADER_LEN];
    f[4..8].copy_from_slice(&((index_len / 4 - 1) as u32).to_le_bytes());
    f[9] = check;
    f[10..].copy_from_slice(&FOOTER_MAGIC);
    let crc = CRC32.checksum(&f[4..10]);
    f[..4].copy_from_slice(&crc.to_le_bytes());
    f
}

/// The index length and check id of a valid stream footer.
pub fn parse_stream_footer(f: &[u8]) -> Option<(u64, u8)> {
    let ok = f.len() == HEADER_LEN
        && f[10..] == FOOTER_MAGIC
        && f[8] == 0
        && f[9] < 0x10
        && CRC32.checksum(&f[4..10]).to_le_bytes() == f[..4];
    let backward = u32::from_le_bytes(f.get(4..8)?.try_into().ok()?);
    ok.then_some(((u64::from(backward) + 1) * 4, f[9]))
}

pub fn index(records: &[Record]) -> Vec<u8> {
    let mut out = vec![0u8];
    put_vli(&mut out, records.len() as u64);
    for r in records {
        put_vli(&mut out, r.unpadded);
        put_vli(&mut out, r.uncompressed);
    }
    pad4(&mut out);
    push_crc32(&mut out, 0);
    out
}

/// The records of a valid index that is exactly `bytes`.
pub fn parse_index(bytes: &[u8]) -> Option<Vec<Record>> {
    if bytes.len() < 8 || !bytes.len().is_multiple_of(4) || bytes[0] != 0 {
        return None;
    }
    let body = bytes.len() - 4;
    if CRC32.checksum(&bytes[..body]).to_le_bytes() != bytes[body..] {
        return None;
    }
    let mut pos = 1;
    let count = get_vli(bytes, &mut pos)?;
    // Each record takes at least two bytes, so a count beyond that is a lie.
    if count > body as u64 / 2 {
        return None;
    }
    let mut records = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let unpadded = get_vli(bytes, &mut pos)?;
        let uncompressed = get_vli(bytes, &mut pos)?;
        if unpadded < 5 {
            return None;
        }
        records.push(Record {
            unpadded,
            uncompressed,
        });
    }
    (pos <= body && bytes[pos..body].iter().all(|&b| b == 0) && body - pos < 4).then_some(records)
}

/// A block header's length from its first byte (`0` would be an index indicator).
pub fn block_header_len(first: u8) -> Option<usize> {
    (first != 0).then_some((usize::from(first) + 1) * 4)
}

/// The filter chain of a valid block header (the bytes after the flags and sizes), and the
/// sizes it declares.
pub struct BlockHeader<'a> {
    pub filters: &'a [u8],
    pub filter_count: u8,
    pub compressed: Option<u64>,
    pub uncompressed: Option<u64>,
}

pub fn parse_block_header(h: &[u8]) -> Option<BlockHeader<'_>> {
    let len = block_header_len(*h.first()?)?;
    if h.len() != len || CRC32.checksum(&h[..len - 4]).to_le_bytes() != h[len - 4..] {
        return None;
    }
    let flags = h[1];
    if flags & 0x3C != 0 {
        return None;
    }
    let mut pos = 2;
    let compressed = if flags & 0x40 != 0 {
        Some(get_vli(h, &mut pos)?)
    } else {
        None
    };
    let uncompressed = if flags & 0x80 != 0 {
        Some(get_vli(h, &mut pos)?)
    } else {
        None
    };
    let filter_count = (flags & 0x03) + 1;
    let start = pos;
    for _ in 0..filter_count {
        get_vli(h, &mut pos)?;
        let props = get_vli(h, &mut pos)?;
        pos = pos.checked_add(usize::try_from(props).ok()?)?;
    }
    let end = len - 4;
    (pos <= end && h[pos..end].iter().all(|&b| b == 0)).then_some(BlockHeader {
        filters: &h[start..pos],
        filter_count,
        compressed,
        uncompressed,
    })
}

/// The same header with both sizes recorded in it, as liblzma's multi-threaded encoder writes
/// them: `xz -T` can then decompress the blocks in parallel too.
pub fn block_header_with_sizes(h: &BlockHeader<'_>, compressed: u64, uncompressed: u64) -> Vec<u8> {
    let mut out = vec![0u8, 0xC0 | (h.filter_count - 1)];
    put_vli(&mut out, compressed);
    put_vli(&mut out, uncompressed);
    out.extend_from_slice(h.filters);
    pad4(&mut out);
    out[0] = ((out.len() + 4) / 4 - 1) as u8;
    push_crc32(&mut out, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vli_round_trips_and_rejects_non_minimal() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, (1 << 63) - 1] {
            let mut b = Vec::new();
            put_vli(&mut b, v);
            let mut pos = 0;
            assert_eq!(get_vli(&b, &mut pos), Some(v));
            assert_eq!(pos, b.len());
        }
        assert_eq!(get_vli(&[0x80, 0x00], &mut 0), None);
        assert_eq!(get_vli(&[0x80], &mut 0), None);
    }

    #[test]
    fn index_and_footer_round_trip() {
        let records = [
            Record {
                unpadded: 1234,
                uncompressed: 5678,
            },
            Record {
                unpadded: 17,
                uncompressed: 1,
            },
        ];
        let idx = index(&records);
        assert_eq!(parse_index(&idx).unwrap(), records);
        let mut bad = idx.clone();
        bad[2] ^= 1;
        assert!(parse_index(&bad).is_none());
        let footer = stream_footer(idx.len() as u64, CHECK_CRC64);
        assert_eq!(
            parse_stream_footer(&footer),
            Some((idx.len() as u64, CHECK_CRC64))
        );
        assert_eq!(
            parse_stream_header(&stream_header(CHECK_CRC64)),
            Some(CHECK_CRC64)
        );
    }
}
