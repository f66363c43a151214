//! How packages are compressed: `--compression`/`--fast`/`--x86-filter`, the block cache (`--no-cache`,
//! `SOIREE_PACK_CACHE_DIR`, `SOIREE_PACK_CACHE_SIZE`) and `cache clean`.

use soiree_build::Packer;
use soiree_spk::{BlockCache, BlockStats, Compression};

use crate::cli::{CompressionArg, Level};
use crate::failure::Failure;

/// The compression `--compression`/`--fast`/`--x86-filter` ask for.
pub fn compression(arg: &CompressionArg) -> Compression {
    let level = if arg.fast { Level::Fast } else { arg.compression };
    Compression {
        x86_filter: arg.x86_filter,
        ..match level {
            Level::Fast => Compression::fast(),
            Level::Default => Compression::default(),
            Level::Best => Compression::best(),
        }
    }
}

/// The packer `--compression`/`--fast`/`--no-cache` ask for; a bad `SOIREE_PACK_CACHE_SIZE` is a
/// usage error.
pub fn packer(arg: &CompressionArg) -> Result<Packer, Failure> {
    Packer::new(compression(arg), !arg.no_cache).map_err(Failure::usage)
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
pub fn cache_clean(keep: Option<&str>) -> Result<(), Failure> {
    // A bad --keep is a usage error before anything else is looked at.
    let limit = keep
        .map(|size| {
            soiree_spk::block_cache::parse_size(size).map_err(|e| Failure::usage(format!("--keep {e}")))
        })
        .transpose()?;
    let cache = BlockCache::open_default().ok_or_else(|| {
        Failure::machine(
            "neither SOIREE_PACK_CACHE_DIR, XDG_CACHE_HOME nor HOME is set; there is no block cache",
        )
    })?;
    let trimmed = match limit {
        Some(limit) => cache.trim(limit),
        None => cache.clean(),
    }
    .map_err(Failure::from)?;
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
