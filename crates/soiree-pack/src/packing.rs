//! How packages are compressed: `--compression`/`--fast`/`--x86-filter`, the block cache (`--no-cache`,
//! `SOIREE_PACK_CACHE_DIR`, `SOIREE_PACK_CACHE_SIZE`); `cache clean` is cmd_cache.rs.

use soiree_build::Packer;
use soiree_spk::{BlockStats, Compression};

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
