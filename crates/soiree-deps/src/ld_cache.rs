//! `/etc/ld.so.cache`, the table ldconfig writes and ld.so reads before the default directories.
//!
//! The current format (glibc ≥ 2.32 writes only this one) is `glibc-ld.so.cache1.1`: a 48-byte
//! header (magic, version, `nlibs`, `len_strings`, a flags byte saying the byte order, the
//! extension offset, padding), `nlibs` 24-byte entries (`flags: i32, key: u32, value: u32,
//! osversion: u32, hwcap: u64`), then the strings. `key` (the soname) and `value` (the path) are
//! offsets from the start of that header. Older caches put the same table after an
//! `ld.so-1.7.0` table of 12-byte entries, or have only the old table, whose string offsets count
//! from the end of its entries.
//!
//! Entries with a non-zero `hwcap` are libraries for particular CPUs (glibc-hwcaps
//! subdirectories such as `x86-64-v3`). ld.so picks them only when the CPU it runs on has those
//! features; a package runs on CPUs nobody knows yet, so only baseline entries count here.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const NEW_HEADER: usize = 48;
const NEW_ENTRY: usize = 24;
const OLD_HEADER: usize = 16;
const OLD_ENTRY: usize = 12;
/// `FLAG_ELF`, `FLAG_ELF_LIBC5`, `FLAG_ELF_LIBC6` in the low byte of an entry's flags; anything
/// else (a.out libc4) is not for ld.so.
const ELF_TYPES: [i32; 3] = [1, 2, 3];
/// The header's flags byte: `cache_file_new_flags_endian_{little,big}`.
const ENDIAN_LITTLE: u8 = 2;
const ENDIAN_BIG: u8 = 3;

/// The cache as a map from soname to the paths it lists for that name, in the cache's order.
#[derive(Debug, Default)]
pub struct LdCache {
    libs: HashMap<OsString, Vec<PathBuf>>,
    count: usize,
}

impl LdCache {
    /// The paths listed for `name`, best first.
    pub fn lookup(&self, name: &std::ffi::OsStr) -> &[PathBuf] {
        self.libs.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// How many baseline ELF entries the cache holds.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn parse(bytes: &[u8]) -> Result<LdCache, String> {
        if bytes.starts_with(NEW_MAGIC) {
            return parse_new(bytes);
        }
        if !bytes.starts_with(OLD_MAGIC) {
            return Err("it starts with neither glibc-ld.so.cache1.1 nor ld.so-1.7.0".into());
        }
        let nlibs = u32_at(bytes, 12, false).ok_or("the old header is cut short")? as usize;
        let old_end = nlibs
            .checked_mul(OLD_ENTRY)
            .and_then(|n| n.checked_add(OLD_HEADER))
            .filter(|end| *end <= bytes.len())
            .ok_or("the old table runs past the end of the file")?;
        // The new table follows, aligned to its struct's alignment: 8 on 64-bit hosts, 4 on
        // 32-bit ones that wrote it.
        for align in [8, 4] {
            let at = old_end.div_ceil(align) * align;
            if bytes.get(at..).is_some_and(|rest| rest.starts_with(NEW_MAGIC)) {
                return parse_new(&bytes[at..]);
            }
        }
        parse_old(bytes, nlibs, old_end)
    }
}

fn parse_new(bytes: &[u8]) -> Result<LdCache, String> {
    if bytes.len() < NEW_HEADER {
        return Err("the header is cut short".into());
    }
    let big = match bytes[28] & 3 {
        ENDIAN_LITTLE => false,
        ENDIAN_BIG => true,
        // Unset: written by an older ldconfig in its own byte order. The order in which the
        // table sizes add up within the file is the one.
        _ => {
            let fits = |big| {
                let n = u32_at(bytes, 20, big).unwrap_or(u32::MAX) as u64;
                let s = u32_at(bytes, 24, big).unwrap_or(u32::MAX) as u64;
                NEW_HEADER as u64 + n * NEW_ENTRY as u64 + s <= bytes.len() as u64
            };
            !fits(false) && fits(true)
        }
    };
    let nlibs = u32_at(bytes, 20, big).ok_or("the header is cut short")? as usize;
    let entries_end = nlibs
        .checked_mul(NEW_ENTRY)
        .and_then(|n| n.checked_add(NEW_HEADER))
        .filter(|end| *end <= bytes.len())
        .ok_or_else(|| format!("{nlibs} entries run past the end of the file"))?;
    let mut cache = LdCache::default();
    for at in (NEW_HEADER..entries_end).step_by(NEW_ENTRY) {
        let flags = u32_at(bytes, at, big).unwrap_or(0) as i32;
        let key = u32_at(bytes, at + 4, big).unwrap_or(u32::MAX);
        let value = u32_at(bytes, at + 8, big).unwrap_or(u32::MAX);
        let hwcap = u64_at(bytes, at + 16, big).unwrap_or(u64::MAX);
        if hwcap != 0 {
            continue;
        }
        add(&mut cache, bytes, flags, key, value)?;
    }
    Ok(cache)
}

fn parse_old(bytes: &[u8], nlibs: usize, strings: usize) -> Result<LdCache, String> {
    let table = &bytes[strings..];
    let mut cache = LdCache::default();
    for i in 0..nlibs {
        let at = OLD_HEADER + i * OLD_ENTRY;
        let flags = u32_at(bytes, at, false).unwrap_or(0) as i32;
        let key = u32_at(bytes, at + 4, false).unwrap_or(u32::MAX);
        let value = u32_at(bytes, at + 8, false).unwrap_or(u32::MAX);
        add(&mut cache, table, flags, key, value)?;
    }
    Ok(cache)
}

fn add(cache: &mut LdCache, strings: &[u8], flags: i32, key: u32, value: u32) -> Result<(), String> {
    if !ELF_TYPES.contains(&(flags & 0xff)) {
        return Ok(());
    }
    let name = c_string(strings, key).ok_or_else(|| format!("a name offset ({key}) is bad"))?;
    let path = c_string(strings, value).ok_or_else(|| format!("a path offset ({value}) is bad"))?;
    cache
        .libs
        .entry(OsString::from_vec(name.to_vec()))
        .or_default()
        .push(PathBuf::from(OsString::from_vec(path.to_vec())));
    cache.count += 1;
    Ok(())
}

fn c_string(bytes: &[u8], at: u32) -> Option<&[u8]> {
    let tail = bytes.get(usize::try_from(at).ok()?..)?;
    let end = tail.iter().position(|b| *b == 0)?;
    Some(&tail[..end])
}

fn u32_at(bytes: &[u8], at: usize, big: bool) -> Option<u32> {
    let b: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fn u64_at(bytes: &[u8], at: usize, big: bool) -> Option<u64> {
    let b: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(if big {
        u64::from_be_bytes(b)
    } else {
        u64::from_le_bytes(b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache in the new format with the given (flags, name, path, hwcap) entries.
    pub fn build(entries: &[(i32, &str, &str, u64)]) -> Vec<u8> {
        let mut strings = Vec::new();
        let base = NEW_HEADER + entries.len() * NEW_ENTRY;
        let mut table = Vec::new();
        for (flags, name, path, hwcap) in entries {
            let key = (base + strings.len()) as u32;
            strings.extend_from_slice(name.as_bytes());
            strings.push(0);
            let value = (base + strings.len()) as u32;
            strings.extend_from_slice(path.as_bytes());
            strings.push(0);
            table.extend_from_slice(&flags.to_le_bytes());
            table.extend_from_slice(&key.to_le_bytes());
            table.extend_from_slice(&value.to_le_bytes());
            table.extend_from_slice(&0u32.to_le_bytes());
            table.extend_from_slice(&hwcap.to_le_bytes());
        }
        let mut out = NEW_MAGIC.to_vec();
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        out.extend_from_slice(&[ENDIAN_LITTLE, 0, 0, 0]);
        out.extend_from_slice(&[0; 16]);
        out.extend(table);
        out.extend(strings);
        out
    }

    #[test]
    fn reads_baseline_elf_entries_in_order() {
        let bytes = build(&[
            (
                0x0303,
                "libz.so.1",
                "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libz.so.1",
                1 << 62,
            ),
            (0x0303, "libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1", 0),
            (0x0003, "libz.so.1", "/lib/i386-linux-gnu/libz.so.1", 0),
            (0x0000, "libold.so.1", "/lib/libold.so.1", 0),
        ]);
        let cache = LdCache::parse(&bytes).unwrap();
        assert_eq!(cache.len(), 2);
        assert_eq!(
            cache.lookup("libz.so.1".as_ref()),
            [
                PathBuf::from("/lib/x86_64-linux-gnu/libz.so.1"),
                PathBuf::from("/lib/i386-linux-gnu/libz.so.1")
            ]
        );
        assert!(cache.lookup("libold.so.1".as_ref()).is_empty());
    }

    #[test]
    fn refuses_what_does_not_add_up() {
        let mut bytes = build(&[(0x0303, "libz.so.1", "/lib/libz.so.1", 0)]);
        assert!(LdCache::parse(&bytes[..40]).is_err());
        bytes[20] = 200;
        assert!(LdCache::parse(&bytes).is_err());
        assert!(LdCache::parse(b"not a cache").is_err());
        let mut bytes = build(&[(0x0303, "libz.so.1", "/lib/libz.so.1", 0)]);
        let len = bytes.len();
        bytes.truncate(len - 3);
        assert!(LdCache::parse(&bytes).is_err());
    }

    #[test]
    fn reads_this_machines_cache() {
        let Ok(bytes) = std::fs::read("/etc/ld.so.cache") else {
            return;
        };
        let cache = LdCache::parse(&bytes).unwrap();
        assert!(!cache.is_empty());
    }
}
