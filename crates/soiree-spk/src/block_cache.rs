//! A cache of compressed xz blocks, keyed by the SHA-256 of the block's uncompressed bytes and
//! the settings that shaped it (preset, block format version, liblzma's version). After a small
//! change only the blocks that changed are compressed again.
//!
//! An entry is `MAGIC ‖ uncompressed length ‖ SHA-256(block) ‖ block`. It is written to a temp
//! file beside its final name and renamed into place, and checked on every read: the hash of the
//! block, its header CRC and sizes, and its CRC64 check against the bytes in hand. An entry that
//! fails any of these is deleted and the block compressed afresh; it is never packed. Reading an
//! entry refreshes its mtime, and [`BlockCache::trim`] removes the least recently used first.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::block_codec::{self, EncodedBlock};
use crate::error::{Error, Result};
use crate::regular_file::{self, OpenError};

const MAGIC: &[u8; 8] = b"SPKBLK1\n";
const ENTRY_HEAD: usize = 8 + 8 + 32;
/// Bumped whenever the bytes of a block for the same input could change (boundaries do not
/// matter here: the key is the block's own content).
const BLOCK_FORMAT: u32 = 1;
/// The default size limit, `SOIREE_PACK_CACHE_SIZE` unless set.
pub const DEFAULT_LIMIT: u64 = 2 << 30;

/// The cache directory; nothing is created until a block is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockCache {
    root: PathBuf,
}

/// What [`BlockCache::trim`] removed and what is left.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trimmed {
    pub removed: u64,
    pub freed: u64,
    pub kept: u64,
    pub kept_bytes: u64,
}

pub(crate) enum Lookup {
    Hit(EncodedBlock),
    Miss,
    /// There was an entry, and it was wrong; it has been removed.
    Corrupt,
}

fn liblzma_version() -> u32 {
    // SAFETY: lzma_version_number takes no arguments and only returns a constant.
    unsafe { lzma_sys::lzma_version_number() }
}

impl BlockCache {
    pub fn at(root: impl Into<PathBuf>) -> BlockCache {
        BlockCache { root: root.into() }
    }

    /// `$SOIREE_PACK_CACHE_DIR`, else `$XDG_CACHE_HOME/soiree-pack/blocks`, else
    /// `~/.cache/soiree-pack/blocks`.
    pub fn default_root() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("SOIREE_PACK_CACHE_DIR").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir));
        }
        // The XDG spec says to ignore a relative XDG_CACHE_HOME.
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|h| !h.is_empty())
                    .map(|h| PathBuf::from(h).join(".cache"))
            })?;
        Some(base.join("soiree-pack").join("blocks"))
    }

    pub fn open_default() -> Option<BlockCache> {
        BlockCache::default_root().map(BlockCache::at)
    }

    /// The size limit: `SOIREE_PACK_CACHE_SIZE` (bytes, or with a K, M or G suffix), else 2 GiB.
    pub fn default_limit() -> Result<u64, String> {
        match std::env::var("SOIREE_PACK_CACHE_SIZE") {
            Ok(text) if !text.trim().is_empty() => parse_size(&text),
            _ => Ok(DEFAULT_LIMIT),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn entries_dir(&self) -> PathBuf {
        self.root.join(format!("v{BLOCK_FORMAT}"))
    }

    pub(crate) fn key(preset: u32, x86: bool, data: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"soiree-pack xz block\0");
        h.update(BLOCK_FORMAT.to_le_bytes());
        h.update(liblzma_version().to_le_bytes());
        h.update(preset.to_le_bytes());
        h.update([u8::from(x86)]);
        h.update(block_codec::dict_size(preset, data.len()).to_le_bytes());
        h.update(data);
        h.finalize().into()
    }

    fn path(&self, key: &[u8; 32]) -> PathBuf {
        let hex = data_encoding::HEXLOWER.encode(key);
        self.entries_dir().join(&hex[..2]).join(&hex[2..])
    }

    /// The block stored for `key`, if there is one and it is right for `data`.
    pub(crate) fn get(&self, key: &[u8; 32], data: &[u8]) -> Lookup {
        let path = self.path(key);
        let mut file = match regular_file::open(&path, OpenOptions::new().read(true)) {
            Ok(file) => file,
            // A FIFO or anything else in an entry's place is not ours: it goes like a bad entry
            // (a directory stays, and the store after this fails, costing only the cache).
            Err(OpenError::NotRegular(_)) => {
                let _ = std::fs::remove_file(&path);
                return Lookup::Corrupt;
            }
            Err(OpenError::Io(_)) => return Lookup::Miss,
        };
        match read_entry(&mut file, data) {
            Some(block) => {
                // Recently used entries are the last to go; a failure here costs only that.
                let _ = filetime::set_file_handle_times(&file, None, Some(filetime::FileTime::now()));
                Lookup::Hit(block)
            }
            None => {
                let _ = std::fs::remove_file(&path);
                Lookup::Corrupt
            }
        }
    }

    /// Stores `block` for `key`: written beside its final name, then renamed into place.
    pub(crate) fn put(&self, key: &[u8; 32], block: &EncodedBlock) -> std::io::Result<()> {
        let path = self.path(key);
        let dir = path.parent().unwrap_or(&self.root);
        // Blocks are the contents of packages, maybe of unreleased ones: the cache's folders are
        // its owner's alone, whatever the umask.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
        let mut head = Vec::with_capacity(ENTRY_HEAD);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&block.record.uncompressed.to_le_bytes());
        head.extend_from_slice(&Sha256::digest(&block.bytes));
        tmp.write_all(&head)?;
        tmp.write_all(&block.bytes)?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Every entry: when it was last used (its mtime, refreshed by each read), its size, its path.
    /// Nothing needs a lock: an entry is read whole from one open file, so one removed meanwhile
    /// is read all the same or is a miss.
    pub fn entries(&self) -> Result<Vec<(std::time::SystemTime, u64, PathBuf)>> {
        let mut found = Vec::new();
        let dir = self.entries_dir();
        if !dir.exists() {
            return Ok(found);
        }
        for item in walkdir::WalkDir::new(&dir).min_depth(2).max_depth(2) {
            let item = item.map_err(|e| Error::Io {
                path: dir.clone(),
                source: e.into(),
            })?;
            if !item.file_type().is_file() {
                continue;
            }
            let meta = item.metadata().map_err(|e| Error::Io {
                path: item.path().into(),
                source: e.into(),
            })?;
            let used = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            found.push((used, meta.len(), item.into_path()));
        }
        Ok(found)
    }

    /// Removes the least recently used entries until at most `limit` bytes are left.
    pub fn trim(&self, limit: u64) -> Result<Trimmed> {
        let mut entries = self.entries()?;
        entries.sort();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        let mut t = Trimmed::default();
        for (_, size, path) in &entries {
            if total <= limit {
                t.kept += 1;
                t.kept_bytes += size;
                continue;
            }
            if self.remove(path)? {
                t.removed += 1;
                t.freed += size;
            }
            total -= size;
        }
        Ok(t)
    }

    /// Removes the entry at `path` (one [`BlockCache::entries`] gave); whether it was still there.
    pub fn remove(&self, path: &Path) -> Result<bool> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io(path)(e)),
        }
    }

    /// Removes every entry.
    pub fn clean(&self) -> Result<Trimmed> {
        let t = self.trim(0)?;
        // Empty fan-out directories are left to the next trim to ignore; the version directory
        // itself goes, so an old format's leftovers never linger.
        let _ = std::fs::remove_dir_all(self.entries_dir());
        Ok(t)
    }
}

fn read_entry(file: &mut File, data: &[u8]) -> Option<EncodedBlock> {
    let len = file.metadata().ok()?.len();
    // A block never grows much beyond its input; anything larger is not ours to read.
    let most = ENTRY_HEAD as u64 + data.len() as u64 + data.len() as u64 / 8 + (64 << 10);
    if len < ENTRY_HEAD as u64 || len > most {
        return None;
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.read_to_end(&mut bytes).ok()?;
    let (head, block) = bytes.split_at_checked(ENTRY_HEAD)?;
    if &head[..8] != MAGIC
        || u64::from_le_bytes(head[8..16].try_into().ok()?) != data.len() as u64
        || Sha256::digest(block).as_slice() != &head[16..48]
    {
        return None;
    }
    let record = block_codec::matches(block, data)?;
    Some(EncodedBlock {
        bytes: block.to_vec(),
        record,
    })
}

/// `2147483648`, `512M`, `2G`, `64k` (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (num, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("{text:?}: the suffix must be K, M, G or T")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{text:?} is not a size (bytes, or a number with K, M, G or T)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3X").is_err());
    }

    #[test]
    fn entries_are_checked_and_trimmed() {
        let t = tempfile::tempdir().unwrap();
        let cache = BlockCache::at(t.path());
        let data = b"some bytes some bytes some bytes".repeat(100);
        let key = BlockCache::key(6, false, &data);
        assert!(matches!(cache.get(&key, &data), Lookup::Miss));
        let block = block_codec::compress(&data, 6, false).unwrap();
        cache.put(&key, &block).unwrap();
        match cache.get(&key, &data) {
            Lookup::Hit(b) => assert_eq!(b, block),
            _ => panic!("expected a hit"),
        }
        // A flipped bit anywhere is caught, and the entry goes.
        let path = cache.path(&key);
        let mut raw = std::fs::read(&path).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        std::fs::write(&path, &raw).unwrap();
        assert!(matches!(cache.get(&key, &data), Lookup::Corrupt));
        assert!(!path.exists());
        cache.put(&key, &block).unwrap();
        let trimmed = cache.trim(0).unwrap();
        assert_eq!(trimmed.removed, 1);
        assert!(matches!(cache.get(&key, &data), Lookup::Miss));
    }
}
