//! How a build compresses: the settings and the block cache of one command, the cache kept
//! under its size limit after each package.

use std::path::Path;

use soiree_spk::{BlockCache, Compression, Dir, Error, KeyPair, Written};

/// The compression settings and block cache of one command.
pub struct Packer {
    pub compression: Compression,
    pub cache: Option<BlockCache>,
    limit: u64,
}

impl Packer {
    /// `use_cache` false packs without the cache (`--no-cache`); the cache's place and size
    /// come from the environment (`SOIREE_PACK_CACHE_DIR`, `SOIREE_PACK_CACHE_SIZE`).
    pub fn new(compression: Compression, use_cache: bool) -> Result<Packer, String> {
        let limit = BlockCache::default_limit().map_err(|e| format!("SOIREE_PACK_CACHE_SIZE: {e}"))?;
        let cache = if use_cache {
            BlockCache::open_default()
        } else {
            None
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
