//! Read, write, verify, sign and unpack Sandstorm `.spk` packages; Sandstorm keyrings.
//!
//! The flow of a package through this crate: a [`tree::Dir`] (metadata only) is checked against
//! Sandstorm's limits, streamed as one `Archive` message through SHA-512 and xz
//! ([`write::pack`]), signed, and assembled as `MAGIC ‖ xz(Signature) ‖ xz(Archive)`.
//! [`read::verify`] and [`unpack::unpack`] go the other way with `spk`'s checks.

mod archive_entries;
pub mod block_cache;
mod block_codec;
pub mod block_pool;
mod block_split;
pub mod encode;
pub mod error;
pub mod filter_chains;
mod hashio;
pub mod keys;
pub mod limits;
pub mod manifest;
pub mod message;
pub mod read;
mod read_parallel;
mod regular_file;
pub mod replacements;
pub mod sign;
pub mod signature;
mod stream_map;
pub mod unpack;
pub mod write;
mod xz_format;

// The tree, ids and text escaping live in soiree-types (so that crates which only build trees
// need nothing of the format); they keep their names here.
pub use soiree_types::{display, ids, tree, TreeError};

pub use block_cache::BlockCache;
pub use block_pool::{live_progress, BlockStats, LiveProgress};
pub use error::{Error, Result};
pub use ids::{AppId, PackageId};
pub use keys::{KeyPair, Keyring};
pub use read::{open, verify, Opened, Verified};
pub use tree::{special_file_kind, Dir, Entry, Node, NotADirectory, Source};
pub use unpack::unpack;
pub use write::{pack, pack_cached, Compression, Written};

/// Reads `SOURCE_DATE_EPOCH` (seconds) as nanoseconds, if it is set and valid.
pub fn source_date_epoch_ns() -> Option<i64> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()?
        .trim()
        .parse::<i64>()
        .ok()?
        .checked_mul(1_000_000_000)
}

/// Reads a prepared tree from disk for `pack`: what is there, plus the mount points every
/// package has, with modification times clamped to `SOURCE_DATE_EPOCH` when it is set.
pub fn scan_for_packing(root: &std::path::Path, epoch_ns: Option<i64>) -> Result<Dir> {
    let mut dir = Dir::scan(root)?;
    if let Some(epoch) = epoch_ns {
        dir.clamp_mtimes(epoch);
    }
    dir.add_sandbox_mount_points(epoch_ns.unwrap_or(0))?;
    Ok(dir)
}
