//! Which xz filter chains a package's blocks use, read from the block headers of every stream
//! (`verify` reports them): plain `lzma2` is what every `.xz` reader handles; `x86+lzma2` only
//! readers with BCJ filters (Sandstorm's `xz -dc`, not Tempest's).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use crate::stream_map;
use crate::xz_format::{self, get_vli};

/// Filter chain (`lzma2`, `x86+lzma2`, first filter first) → how many blocks use it.
pub type FilterChains = BTreeMap<String, u64>;

/// Streams further apart than this are not a package soiree-pack or `spk` would write.
const MAX_STREAMS: usize = 64;

/// The name xz gives a filter ID (`xz --list -vv` prints the same), or its number.
fn filter_name(id: u64) -> String {
    let name = match id {
        0x03 => "delta",
        0x04 => "x86",
        0x05 => "powerpc",
        0x06 => "ia64",
        0x07 => "arm",
        0x08 => "armthumb",
        0x09 => "sparc",
        0x0A => "arm64",
        0x0B => "riscv",
        0x21 => "lzma2",
        0x4000_0000_0000_0001 => "lzma1",
        _ => return format!("{id:#x}"),
    };
    name.to_string()
}

/// The chain of one block header's filter flags, e.g. `x86+lzma2`.
fn chain_of(filters: &[u8], count: u8) -> Option<String> {
    let mut pos = 0;
    let mut names = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let id = get_vli(filters, &mut pos)?;
        let props = usize::try_from(get_vli(filters, &mut pos)?).ok()?;
        pos = pos.checked_add(props).filter(|&end| end <= filters.len())?;
        names.push(filter_name(id));
    }
    Some(names.join("+"))
}

/// Every block's filter chain in every xz stream of `file` after the 8-byte magic, counted;
/// `None` if the streams cannot be mapped from the end (the package is then read serially and
/// its chains are not known).
pub fn of_file(file: &File) -> Option<FilterChains> {
    let mut end = file.metadata().ok()?.len();
    let mut chains = FilterChains::new();
    for _ in 0..MAX_STREAMS {
        let map = stream_map::map_last_stream(file, end, 8)?;
        for &(at, record) in &map.blocks {
            let first = stream_map::read_at(file, at, 1)?[0];
            let len = xz_format::block_header_len(first)? as u64;
            if len > record.unpadded {
                return None;
            }
            let bytes = stream_map::read_at(file, at, len)?;
            let header = xz_format::parse_block_header(&bytes)?;
            *chains
                .entry(chain_of(header.filters, header.filter_count)?)
                .or_default() += 1;
        }
        if map.start == 8 {
            return Some(chains);
        }
        end = map.start;
    }
    None
}

/// [`of_file`] of the file at `path`.
pub fn of_path(path: &Path) -> Option<FilterChains> {
    of_file(&File::open(path).ok()?)
}

/// `lzma2 (35 blocks)`, `lzma2 (2 blocks), x86+lzma2 (30 blocks)`.
pub fn describe(chains: &FilterChains) -> String {
    chains
        .iter()
        .map(|(chain, n)| format!("{chain} ({n} block{})", if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_are_named_first_filter_first() {
        // x86 (no properties), then LZMA2 with its one-byte dictionary property.
        assert_eq!(
            chain_of(&[0x04, 0x00, 0x21, 0x01, 0x16], 2).as_deref(),
            Some("x86+lzma2")
        );
        assert_eq!(chain_of(&[0x21, 0x01, 0x16], 1).as_deref(), Some("lzma2"));
        assert_eq!(chain_of(&[0x21, 0x05], 1), None);
        let mut c = FilterChains::new();
        c.insert("lzma2".into(), 1);
        c.insert("x86+lzma2".into(), 30);
        assert_eq!(describe(&c), "lzma2 (1 block), x86+lzma2 (30 blocks)");
    }
}
