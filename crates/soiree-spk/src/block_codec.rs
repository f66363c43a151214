//! One xz block in, one xz block out: liblzma does the LZMA2 work and the CRC64 check; this file
//! cuts the block out of a one-block stream (compressing) or wraps it into one (decompressing).
//!
//! xz2 offers whole streams only, so a block is compressed as a one-block stream and lifted out
//! of it; its header is rewritten to record both sizes, as liblzma's multi-threaded encoder does.
//! A block is decompressed as a stream made of the real stream header, the block and a one-record
//! index built from the real index: liblzma then checks the header CRC, the data, the CRC64 and
//! that the block is exactly as long as the index says.

use xz2::stream::{Action, Check, Filters, LzmaOptions, Status, Stream};

use crate::error::{Error, Result};
use crate::xz_format::{self, Record, CRC64_LEN, HEADER_LEN};

/// A complete block (header, data, padding, check) and its index record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedBlock {
    pub bytes: Vec<u8>,
    pub record: Record,
}

/// liblzma's dictionary size for each preset level (`xz --help` lists the same).
const PRESET_DICT: [u32; 10] = [
    256 << 10,
    1 << 20,
    2 << 20,
    4 << 20,
    4 << 20,
    8 << 20,
    8 << 20,
    16 << 20,
    32 << 20,
    64 << 20,
];

/// No block gets a dictionary bigger than this: liblzma's tables (and its time per byte) grow
/// with the dictionary, and on shared libraries matches further back than 4 MiB inside a block of
/// up to 8 MiB saved 0.1%. Every package's workers then need the same memory.
pub const MAX_DICT: u32 = 4 << 20;

/// The dictionary for a block of `len` bytes: the preset's, but no larger than [`MAX_DICT`] or the
/// smallest size LZMA2 can declare (2^n or 3·2^(n-1) bytes) that holds the block, since nothing
/// before the block can be referenced. A smaller dictionary allocates and touches less per block
/// and gives the same matches. A block a little over a size (a 4 MiB chunk of a file with its
/// name in front) gets that size: a match over 4 MiB back is worth nothing, a dictionary the next
/// size up costs a hash table twice as big.
pub fn dict_size(preset: u32, len: usize) -> u32 {
    let level = (preset & 0x1F).min(9) as usize;
    let want = (len - len / 256).max(4096) as u64;
    let fit = (0..40u32)
        .map(|b| u64::from(2 | (b & 1)) << (b / 2 + 11))
        .find(|&d| d >= want)
        .unwrap_or(u64::from(u32::MAX));
    PRESET_DICT[level].min(fit as u32).min(MAX_DICT)
}

fn xz_err(e: xz2::stream::Error) -> Error {
    Error::Xz(e.to_string())
}

/// Compresses `data` (not empty: xz writes no block for nothing) as one xz block with a CRC64
/// check. `x86` puts xz's x86 branch filter (BCJ) before LZMA2, for machine code: it turns
/// relative call and jump targets into absolute ones, which repeat, so LZMA2 finds more matches.
pub fn compress(data: &[u8], preset: u32, x86: bool) -> Result<EncodedBlock> {
    let mut opts = LzmaOptions::new_preset(preset).map_err(xz_err)?;
    opts.dict_size(dict_size(preset, data.len()));
    let mut filters = Filters::new();
    if x86 {
        filters.x86();
    }
    filters.lzma2(&opts);
    let mut stream = Stream::new_stream_encoder(&filters, Check::Crc64).map_err(xz_err)?;
    let mut out = Vec::with_capacity(data.len() / 2 + 4096);
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(out.capacity().max(1 << 16));
        }
        let consumed = stream.total_in() as usize;
        match stream
            .process_vec(&data[consumed..], &mut out, Action::Finish)
            .map_err(xz_err)?
        {
            Status::StreamEnd => break,
            _ => continue,
        }
    }
    lift_block(&out, data.len() as u64).ok_or_else(|| Error::Xz("liblzma wrote an unexpected stream".into()))
}

/// The block of a one-block stream, with its header rewritten to record both sizes.
fn lift_block(stream: &[u8], uncompressed: u64) -> Option<EncodedBlock> {
    let (footer_at, index_len) = {
        let at = stream.len().checked_sub(HEADER_LEN)?;
        let (index_len, _) = xz_format::parse_stream_footer(&stream[at..])?;
        (at, index_len as usize)
    };
    let index_at = footer_at.checked_sub(index_len)?;
    let records = xz_format::parse_index(&stream[index_at..footer_at])?;
    let [record] = records.as_slice() else {
        return None;
    };
    let block = stream.get(HEADER_LEN..HEADER_LEN + record.padded() as usize)?;
    if HEADER_LEN + block.len() != index_at || record.uncompressed != uncompressed {
        return None;
    }
    let header_len = xz_format::block_header_len(block[0])?;
    let header = xz_format::parse_block_header(block.get(..header_len)?)?;
    let data_len = (record.unpadded as usize).checked_sub(header_len + CRC64_LEN as usize)?;
    // Block padding comes between the data and the check.
    let check = &block[block.len() - CRC64_LEN as usize..];
    let mut bytes = xz_format::block_header_with_sizes(&header, data_len as u64, uncompressed);
    let new_header_len = bytes.len();
    bytes.extend_from_slice(&block[header_len..header_len + data_len]);
    while !bytes.len().is_multiple_of(4) {
        bytes.push(0);
    }
    bytes.extend_from_slice(check);
    Some(EncodedBlock {
        bytes,
        record: Record {
            unpadded: (new_header_len + data_len) as u64 + CRC64_LEN,
            uncompressed,
        },
    })
}

/// Checks that `block` is a well-formed block of ours for `data`: header CRC, both sizes, zero
/// padding, and the CRC64 of `data` as its check. (The compressed bytes themselves are covered by
/// the cache entry's own hash.)
pub fn matches(block: &[u8], data: &[u8]) -> Option<Record> {
    let header_len = xz_format::block_header_len(*block.first()?)?;
    let header = xz_format::parse_block_header(block.get(..header_len)?)?;
    if header.uncompressed? != data.len() as u64 {
        return None;
    }
    let record = Record {
        unpadded: (header_len as u64)
            .checked_add(header.compressed?)?
            .checked_add(CRC64_LEN)?,
        uncompressed: data.len() as u64,
    };
    if record.padded() != block.len() as u64 {
        return None;
    }
    // Block padding comes between the data and the check.
    let check_at = block.len() - CRC64_LEN as usize;
    let padding = &block[header_len + header.compressed? as usize..check_at];
    let check = u64::from_le_bytes(block[check_at..].try_into().ok()?);
    (padding.iter().all(|&b| b == 0) && check == xz_format::CRC64.checksum(data)).then_some(record)
}

/// Decompresses one block of a stream into `out`, which must be exactly its uncompressed size.
/// `stream_header` is the real header of the stream the block is in; `block` is the block with
/// its padding.
#[cfg(test)]
pub fn decompress(stream_header: &[u8], block: &[u8], record: Record, out: &mut [u8]) -> Result<(), String> {
    if record.uncompressed != out.len() as u64 {
        return Err("block size differs from the index".into());
    }
    let mut chunk = vec![0u8; out.len().clamp(1, 1 << 20)];
    let mut at = 0usize;
    decompress_chunked(stream_header, block, record, &mut chunk, |piece| {
        out[at..at + piece.len()].copy_from_slice(piece);
        at += piece.len();
        Ok(())
    })
}

/// [`decompress`] through `chunk`, a buffer of any size: `emit` gets the block's bytes in order,
/// at most `chunk.len()` at a time, so memory does not depend on what the index claims. Never
/// more than `record.uncompressed` bytes are emitted.
pub fn decompress_chunked(
    stream_header: &[u8],
    block: &[u8],
    record: Record,
    chunk: &mut [u8],
    mut emit: impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<(), String> {
    let check = xz_format::parse_stream_header(stream_header).ok_or("bad stream header")?;
    if record.padded() != block.len() as u64 || chunk.is_empty() {
        return Err("block size differs from the index".into());
    }
    let index = xz_format::index(&[record]);
    let footer = xz_format::stream_footer(index.len() as u64, check);
    let mut stream = Stream::new_stream_decoder(crate::limits::XZ_MEMLIMIT, 0).map_err(|e| e.to_string())?;
    let mut written = 0u64;
    let mut ended = false;
    for piece in [stream_header, block, &index, &footer] {
        let mut used = 0usize;
        while used < piece.len() && !ended {
            let (in_before, out_before) = (stream.total_in(), stream.total_out());
            let status = stream
                .process(&piece[used..], chunk, Action::Run)
                .map_err(|e| e.to_string())?;
            used += (stream.total_in() - in_before) as usize;
            let produced = (stream.total_out() - out_before) as usize;
            written += produced as u64;
            if written > record.uncompressed {
                return Err("block holds more data than its index says".into());
            }
            emit(&chunk[..produced])?;
            ended = status == Status::StreamEnd;
            if !ended && stream.total_in() == in_before && produced == 0 {
                return Err("the decoder stopped in the middle of the block".into());
            }
        }
    }
    let fed = (HEADER_LEN + block.len() + index.len() + footer.len()) as u64;
    if !ended || written != record.uncompressed || stream.total_in() != fed {
        return Err("block ends early".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xz_format::CHECK_CRC64;

    fn our_stream_header() -> [u8; HEADER_LEN] {
        xz_format::stream_header(CHECK_CRC64)
    }

    #[test]
    fn dictionaries_fit_the_block() {
        assert_eq!(dict_size(6, 10), 4096);
        assert_eq!(dict_size(6, 3 << 20), 3 << 20);
        assert_eq!(dict_size(6, (2 << 20) + 300), 2 << 20);
        assert_eq!(dict_size(6, (2 << 20) + (1 << 20)), 3 << 20);
        assert_eq!(dict_size(6, 4 << 20), 4 << 20);
        assert_eq!(dict_size(6, 5 << 20), 4 << 20);
        assert_eq!(dict_size(6, 100 << 20), 4 << 20);
        assert_eq!(dict_size(1, 4 << 20), 1 << 20);
        assert_eq!(dict_size(9 | crate::write::PRESET_EXTREME, 100 << 20), 4 << 20);
    }

    #[test]
    fn a_block_round_trips_and_is_checked() {
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| (i % 251) as u8 ^ (i >> 9) as u8)
            .collect();
        let block = compress(&data, 6, false).unwrap();
        assert_eq!(matches(&block.bytes, &data), Some(block.record));
        let mut other = data.clone();
        other[5] ^= 1;
        assert_eq!(matches(&block.bytes, &other), None);
        let mut out = vec![0u8; data.len()];
        decompress(&our_stream_header(), &block.bytes, block.record, &mut out).unwrap();
        assert_eq!(out, data);
        let mut corrupt = block.bytes.clone();
        let mid = corrupt.len() / 2;
        corrupt[mid] ^= 0x40;
        assert!(decompress(&our_stream_header(), &corrupt, block.record, &mut out).is_err());
        let mut short = vec![0u8; data.len() - 1];
        let rec = Record {
            uncompressed: data.len() as u64 - 1,
            ..block.record
        };
        assert!(decompress(&our_stream_header(), &block.bytes, rec, &mut short).is_err());
        let x86 = compress(&data, 6, true).unwrap();
        assert_eq!(matches(&x86.bytes, &data), Some(x86.record));
        decompress(&our_stream_header(), &x86.bytes, x86.record, &mut out).unwrap();
        assert_eq!(out, data);
    }
}
