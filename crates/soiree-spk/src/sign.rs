//! Re-signing a package: the same archive under a new signature. When the input keeps its
//! signature in a separate xz stream (as soiree-pack writes it), the archive stream is copied byte
//! for byte; a single-stream package (from `spk`) is recompressed in blocks.
//!
//! [`resign`] first runs every `verify` check (decompressing the archive). [`resign_fast`] checks
//! what can be checked without decompressing: the old signature over the archive digest, and the
//! archive stream's structure (stream header and footer, index, every block header's CRC and
//! sizes). Whether the archive's bytes match the digest is then left to `verify` and to Sandstorm,
//! which both check it before anything is installed.

use std::fs::File;
use std::path::Path;

use crate::block_cache::BlockCache;
use crate::block_pool::{self, BlockStats};
use crate::error::{Error, Result};
use crate::ids::{AppId, PackageId};
use crate::keys::KeyPair;
use crate::read::{self, Verified};
use crate::read_parallel;
use crate::replacements;
use crate::stream_map;
use crate::write::{self, Compression, Written};
use crate::xz_format::CHECK_CRC64;

/// Where the archive's own xz stream starts, if the streams before it hold exactly the
/// signature.
fn archive_stream_start(file: &File) -> Option<u64> {
    let len = file.metadata().ok()?.len();
    let map = stream_map::map_last_stream(file, len, 8)?;
    read_parallel::read_prefix(file, &map)?;
    Some(map.start)
}

/// Verifies `input` and writes it to `out` signed by `key`.
pub fn resign(input: &Path, key: &KeyPair, out: &Path) -> Result<(Verified, Written)> {
    let verified = read::verify(input)?;
    let opened = &verified.opened;
    let file = File::open(input).map_err(Error::io(input))?;
    let (package_id, size, blocks) = match archive_stream_start(&file) {
        Some(start) => {
            let (id, size) = write::assemble(
                key,
                opened.archive_sha512,
                file,
                start,
                opened.file_size - start,
                out,
            )?;
            (id, size, BlockStats::default())
        }
        None => recompress_and_assemble(
            key,
            opened.archive_bytes(),
            opened.archive_sha512,
            out,
            Compression::default(),
            None,
        )?,
    };
    let written = Written {
        app_id: key.app_id(),
        package_id,
        size,
        archive_len: opened.archive_len,
        archive_sha512: opened.archive_sha512,
        manifest: verified.manifest.clone(),
        blocks,
    };
    Ok((verified, written))
}

/// What [`resign_fast`] read and wrote.
#[derive(Debug, Clone)]
pub struct Resigned {
    /// The input's app id (its signer, after Sandstorm's replacement table).
    pub old_app_id: AppId,
    pub app_id: AppId,
    pub package_id: PackageId,
    pub size: u64,
    pub archive_sha512: [u8; 64],
    /// Whether the archive stream had to be recompressed (a single-stream package), and how.
    pub recompressed: Option<BlockStats>,
}

/// Re-signs without decompressing a package soiree-pack wrote: checks the old signature and the
/// archive stream's structure, then copies the stream. Any other package is fully verified and
/// recompressed with `compression` through `cache`.
pub fn resign_fast(
    input: &Path,
    key: &KeyPair,
    out: &Path,
    compression: Compression,
    cache: Option<&BlockCache>,
) -> Result<Resigned> {
    let file = File::open(input).map_err(Error::io(input))?;
    let len = file.metadata().map_err(Error::io(input))?.len();
    let structure = stream_map::map_last_stream(&file, len, 8)
        .filter(|map| map.header[7] == CHECK_CRC64 && stream_map::check_block_headers(&file, map))
        .and_then(|map| read_parallel::read_prefix(&file, &map).map(|prefix| (map, prefix)));
    let Some((map, prefix)) = structure else {
        let verified = read::verify(input)?;
        let opened = &verified.opened;
        let (package_id, size, stats) = recompress_and_assemble(
            key,
            opened.archive_bytes(),
            opened.archive_sha512,
            out,
            compression,
            cache,
        )?;
        return Ok(Resigned {
            old_app_id: opened.app_id,
            app_id: key.app_id(),
            package_id,
            size,
            archive_sha512: opened.archive_sha512,
            recompressed: Some(stats),
        });
    };
    if map.uncompressed > crate::limits::MAX_ARCHIVE_SIZE {
        return Err(Error::ArchiveTooBig {
            limit: crate::limits::MAX_ARCHIVE_SIZE,
        });
    }
    let old_package_id = package_id_of(&file, input)?;
    let old_app_id = replacements::canonical_app_id(&prefix.signer, &old_package_id)?;
    let (package_id, size) = write::assemble(key, prefix.digest, file, map.start, len - map.start, out)?;
    Ok(Resigned {
        old_app_id,
        app_id: key.app_id(),
        package_id,
        size,
        archive_sha512: prefix.digest,
        recompressed: None,
    })
}

fn package_id_of(file: &File, path: &Path) -> Result<PackageId> {
    use sha2::Digest;
    use std::io::Read;
    let mut hasher = sha2::Sha256::new();
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).map_err(Error::io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(PackageId::from_sha256(&hasher.finalize().into()))
}

/// The archive `bytes` compressed in blocks of a fixed size (the tree they came from is not at
/// hand) and assembled under a new signature.
fn recompress_and_assemble(
    key: &KeyPair,
    bytes: &[u8],
    digest: [u8; 64],
    out: &Path,
    compression: Compression,
    cache: Option<&BlockCache>,
) -> Result<(PackageId, u64, BlockStats)> {
    const BLOCK: usize = 4 << 20;
    let dir = write::parent_dir(out);
    let file = tempfile::tempfile_in(dir).map_err(Error::io(dir))?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, file);
    let ((), stats, len) = block_pool::write_stream(
        &mut buffered,
        dir,
        compression.preset,
        compression.threads as usize,
        cache,
        |submitter| {
            for chunk in bytes.chunks(BLOCK) {
                submitter.submit(chunk.to_vec(), false)?;
            }
            Ok(())
        },
    )?;
    let file = buffered.into_inner().map_err(|e| Error::Io {
        path: dir.into(),
        source: e.into_error(),
    })?;
    let (id, size) = write::assemble(key, digest, file, 0, len, out)?;
    Ok((id, size, stats))
}
