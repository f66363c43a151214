//! Writing a signed `.spk`: `MAGIC ‖ xz(Signature) ‖ xz(Archive)`.
//!
//! The archive goes out first: streamed through SHA-512, cut into blocks (block_split.rs),
//! compressed in parallel or taken from the block cache (block_pool.rs) and framed as one xz
//! stream in an anonymous temp file. Then the output is assembled in a temp file beside the
//! destination (magic, the small signature stream, the archive stream copied as is) and renamed
//! into place. Two xz streams let `sign` replace the signature without recompressing the archive;
//! `xz -dc` reads them as one payload.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::Digest;
use soiree_schema::SPK_MAGIC;
use xz2::stream::{Check, Stream};

use crate::block_cache::BlockCache;
use crate::block_pool::{self, BlockStats};
use crate::block_split::Splitter;
use crate::encode;
use crate::error::{Error, Result};
use crate::hashio::Sha256Writer;
use crate::ids::{AppId, PackageId};
use crate::keys::KeyPair;
use crate::manifest::{self, ManifestInfo};
use crate::signature;
use crate::tree::{Dir, Node, Source};

/// liblzma's flag for the slower, slightly smaller variant of a preset (`xz -9e`).
pub const PRESET_EXTREME: u32 = 0x8000_0000;

/// How the archive stream is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// xz preset, 0-9, optionally with [`PRESET_EXTREME`] (`spk pack` uses xz's default, 6).
    pub preset: u32,
    /// Compression workers, each compressing whole blocks.
    pub threads: u32,
    /// xz's x86 branch filter in front of LZMA2 for blocks of x86 machine code (`--x86-filter`):
    /// smaller, but only readers with BCJ filters (Sandstorm's `xz -dc`) can decompress them;
    /// Tempest's reader, which takes plain LZMA2 only, cannot. Off by default.
    pub x86_filter: bool,
}

impl Default for Compression {
    fn default() -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1);
        Compression {
            preset: 6,
            threads,
            x86_filter: false,
        }
    }
}

impl Compression {
    /// Fast, larger output for development builds (`--fast`).
    pub fn fast() -> Self {
        Compression {
            preset: 1,
            ..Compression::default()
        }
    }

    /// The smallest output, slowest (`xz -9e`; dictionaries of at most 4 MiB, as every block
    /// gets, make -9's bigger one moot; the extreme mode is what helps).
    pub fn best() -> Self {
        Compression {
            preset: 9 | PRESET_EXTREME,
            ..Compression::default()
        }
    }

    /// `fast`, `default` or `best`.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "fast" => Some(Compression::fast()),
            "default" => Some(Compression::default()),
            "best" => Some(Compression::best()),
            _ => None,
        }
    }
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub app_id: AppId,
    pub package_id: PackageId,
    pub size: u64,
    pub archive_len: u64,
    pub archive_sha512: [u8; 64],
    pub manifest: ManifestInfo,
    /// How the archive's blocks were made (all zero when an archive stream was copied as is).
    pub blocks: BlockStats,
}

/// An xz-compressed archive stream waiting in a temp file, with the digest to sign.
pub struct CompressedArchive {
    pub(crate) file: File,
    pub(crate) start: u64,
    pub(crate) len: u64,
    pub(crate) archive_len: u64,
    pub(crate) digest: [u8; 64],
    pub(crate) stats: BlockStats,
}

/// The manifest bytes of a tree about to be packed, checked like `spk pack` checks them.
pub fn tree_manifest(tree: &Dir) -> Result<ManifestInfo> {
    let entry = tree
        .entries
        .get(b"sandstorm-manifest".as_slice())
        .ok_or(Error::NoManifest)?;
    match &entry.node {
        Node::File {
            source: Source::Bytes(bytes),
            executable: false,
            ..
        } => manifest::check_for_packing(bytes),
        Node::File {
            source: Source::Path(path),
            executable: false,
            size,
        } => {
            let limit = crate::limits::MAX_MANIFEST_WORDS * 8;
            if *size > limit {
                return Err(Error::ManifestTooBig { size: *size, limit });
            }
            let bytes = std::fs::read(path).map_err(Error::io(path))?;
            manifest::check_for_packing(&bytes)
        }
        _ => Err(Error::ManifestNotRegular),
    }
}

/// Streams the archive for `tree` through SHA-512 and xz into an anonymous file in `tmp_dir`.
pub fn compress_archive(tree: &Dir, compression: Compression, tmp_dir: &Path) -> Result<CompressedArchive> {
    compress_archive_cached(tree, compression, None, tmp_dir)
}

/// [`compress_archive`], taking unchanged blocks from `cache` and storing new ones in it.
pub fn compress_archive_cached(
    tree: &Dir,
    compression: Compression,
    cache: Option<&BlockCache>,
    tmp_dir: &Path,
) -> Result<CompressedArchive> {
    encode::check_limits(tree)?;
    let file = tempfile::tempfile_in(tmp_dir).map_err(Error::io(tmp_dir))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let ((archive_len, digest), stats, len) = block_pool::write_stream(
        &mut out,
        tmp_dir,
        compression.preset,
        compression.threads as usize,
        cache,
        |submitter| {
            let mut splitter = Splitter::new(submitter, compression.x86_filter);
            let written = encode::write_archive_to(tree, &mut splitter);
            if let Some(e) = splitter.failed.take() {
                return Err(e);
            }
            let archive_len = written?;
            Ok((archive_len, splitter.finish()?))
        },
    )?;
    let file = out.into_inner().map_err(|e| Error::Io {
        path: tmp_dir.into(),
        source: e.into_error(),
    })?;
    Ok(CompressedArchive {
        file,
        start: 0,
        len,
        archive_len,
        digest,
        stats,
    })
}

/// Packs `tree` (which must hold `sandstorm-manifest`) into a signed `.spk` at `out`.
pub fn pack(tree: &Dir, key: &KeyPair, out: &Path, compression: Compression) -> Result<Written> {
    pack_cached(tree, key, out, compression, None)
}

/// [`pack`] through a block cache: only blocks not in `cache` are compressed. The output is
/// byte-identical either way.
pub fn pack_cached(
    tree: &Dir,
    key: &KeyPair,
    out: &Path,
    compression: Compression,
    cache: Option<&BlockCache>,
) -> Result<Written> {
    let manifest = tree_manifest(tree)?;
    let dir = parent_dir(out);
    let archive = compress_archive_cached(tree, compression, cache, dir)?;
    let (package_id, size) = assemble(
        key,
        archive.digest,
        archive.file.try_clone().map_err(Error::io(dir))?,
        archive.start,
        archive.len,
        out,
    )?;
    Ok(Written {
        app_id: key.app_id(),
        package_id,
        size,
        archive_len: archive.archive_len,
        archive_sha512: archive.digest,
        manifest,
        blocks: archive.stats,
    })
}

pub use soiree_fs::parent_dir;

const TEMP_PREFIX: &str = ".soiree-pack-";
const TEMP_SUFFIX: &str = ".spk.tmp";

/// A temp file [`assemble`] makes: `.soiree-pack-XXXXXX.spk.tmp`.
pub fn is_temp_name(name: &str) -> bool {
    name.len() > TEMP_PREFIX.len() + TEMP_SUFFIX.len()
        && name.starts_with(TEMP_PREFIX)
        && name.ends_with(TEMP_SUFFIX)
}

/// Writes `MAGIC ‖ xz(Signature) ‖ archive[start..start+len]` to a temp file beside `out` and
/// renames it into place. Returns the package id and the file size.
pub(crate) fn assemble(
    key: &KeyPair,
    digest: [u8; 64],
    mut archive: File,
    start: u64,
    len: u64,
    out: &Path,
) -> Result<(PackageId, u64)> {
    let dir = parent_dir(out);
    let io = |e: std::io::Error| Error::Io {
        path: out.to_path_buf(),
        source: e,
    };
    // A run killed while writing leaves its temp file; the next run into this folder removes it,
    // but never one that a running process still holds. Cleaning is best effort: a folder that
    // cannot be listed fails below, where it is written, with the error that matters.
    let _ = soiree_fs::stale::remove_unheld_files(dir, is_temp_name);
    let tmp = soiree_fs::stale::locked_temp_file(dir, TEMP_PREFIX, TEMP_SUFFIX).map_err(Error::io(dir))?;
    let mut w = Sha256Writer::new(BufWriter::with_capacity(1 << 20, tmp));
    w.write_all(&SPK_MAGIC).map_err(io)?;
    let sig = signature::sign(key, &digest);
    let mut sig_xz = xz2::write::XzEncoder::new_stream(
        Vec::new(),
        Stream::new_easy_encoder(6, Check::Crc64).map_err(|e| Error::Xz(e.to_string()))?,
    );
    sig_xz.write_all(&sig).map_err(io)?;
    w.write_all(&sig_xz.finish().map_err(io)?).map_err(io)?;
    archive.seek(SeekFrom::Start(start)).map_err(io)?;
    let copied = std::io::copy(&mut (&mut archive).take(len), &mut w).map_err(io)?;
    if copied != len {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "archive stream ended early",
        )));
    }
    let sha256: [u8; 32] = w.hasher.finalize_reset().into();
    let size = w.count;
    let tmp = w.inner.into_inner().map_err(|e| io(e.into_error()))?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(io)?;
    tmp.persist(out).map_err(|e| io(e.error))?;
    Ok((PackageId::from_sha256(&sha256), size))
}
