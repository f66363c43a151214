//! How packages are compressed: `--compression`/`--fast`/`--x86-filter`, the block cache (`--no-cache`,
//! `SOIREE_PACK_CACHE_DIR`, `SOIREE_PACK_CACHE_SIZE`) and `cache clean`.

use std::path::Path;

use soiree_spk::{BlockCache, BlockStats, Compression, Dir, Error, KeyPair, Written};

use crate::cli::{CompressionArg, Level};

/// The compression settings and block cache of one command.
pub struct Packer {
    pub compression: Compression,
    pub cache: Option<BlockCache>,
    limit: u64,
}

impl Packer {
    pub fn new(arg: &CompressionArg) -> Result<Packer, String> {
        let level = if arg.fast { Level::Fast } else { arg.compression };
        let compression = Compression {
            x86_filter: arg.x86_filter,
            ..match level {
                Level::Fast => Compression::fast(),
                Level::Default => Compression::default(),
                Level::Best => Compression::best(),
            }
        };
        let limit = BlockCache::default_limit().map_err(|e| format!("SOIREE_PACK_CACHE_SIZE: {e}"))?;
        let cache = if arg.no_cache {
            None
        } else {
            BlockCache::open_default()
        };
        Ok(Packer {
            compression,
            cache,
            limit,
        })
    }

    pub fn pack(&self, tree: &Dir, key: &KeyPair, out: &Path) -> Result<Written, Error> {
        let written = soiree_spk::pack_cached(tree, key, out, self.compression, self.cache.as_ref())?;
        self.trim();
        Ok(written)
    }

    /// Keeps the cache under its size limit; a failure here never fails the command.
    pub fn trim(&self) {
        if let Some(cache) = &self.cache {
            if let Err(e) = cache.trim(self.limit) {
                eprintln!("warning: block cache {}: {e}", cache.root().display());
            }
        }
    }
}

/// `42 blocks: 3 compressed, 39 from the cache`.
pub fn describe(stats: &BlockStats) -> String {
    let mut s = format!(
        "{} blocks: {} compressed, {} from the cache",
        stats.blocks, stats.compressed, stats.from_cache
    );
    if stats.corrupt_entries > 0 {
        s.push_str(&format!(
            "; {} damaged cache entries were rebuilt",
            stats.corrupt_entries
        ));
    }
    if stats.cache_write_errors > 0 {
        s.push_str(&format!(
            "; {} blocks could not be cached",
            stats.cache_write_errors
        ));
    }
    s
}

/// `cache clean [--keep SIZE]`.
pub fn cache_clean(keep: Option<&str>) -> Result<(), String> {
    let cache = BlockCache::open_default()
        .ok_or("neither SOIREE_PACK_CACHE_DIR, XDG_CACHE_HOME nor HOME is set; there is no block cache")?;
    let trimmed = match keep {
        Some(size) => {
            let limit = soiree_spk::block_cache::parse_size(size)?;
            cache.trim(limit)
        }
        None => cache.clean(),
    }
    .map_err(|e| e.to_string())?;
    println!(
        "{}: removed {} blocks ({} bytes); {} blocks ({} bytes) kept",
        cache.root().display(),
        trimmed.removed,
        trimmed.freed,
        trimmed.kept,
        trimmed.kept_bytes
    );
    Ok(())
}
