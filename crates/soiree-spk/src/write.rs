//! Writing a signed `.spk`: `MAGIC ‖ xz(Signature) ‖ xz(Archive)`.
//!
//! The archive goes out first, streamed through SHA-512 and xz into an anonymous temp file; then
//! the output is assembled in a temp file beside the destination (magic, the small signature
//! stream, the archive stream copied as is) and renamed into place. Two xz streams let `sign`
//! replace the signature without recompressing the archive; `xz -dc` reads them as one payload.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use sha2::Digest;
use soiree_schema::SPK_MAGIC;
use xz2::stream::{Check, MtStreamBuilder, Stream};

use crate::encode;
use crate::error::{Error, Result};
use crate::hashio::{Sha256Writer, Sha512Writer};
use crate::ids::{AppId, PackageId};
use crate::keys::KeyPair;
use crate::manifest::{self, ManifestInfo};
use crate::signature;
use crate::tree::{Dir, Node, Source};

/// How the archive stream is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// xz preset, 0-9 (`spk pack` uses xz's default, 6).
    pub preset: u32,
    /// Compression threads; xz splits the stream into independent blocks for them.
    pub threads: u32,
}

impl Default for Compression {
    fn default() -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1);
        Compression { preset: 6, threads }
    }
}

impl Compression {
    /// Fast, larger output for development builds.
    pub fn fast() -> Self {
        Compression {
            preset: 1,
            ..Compression::default()
        }
    }

    pub(crate) fn encoder(&self) -> Result<Stream> {
        let xz = |e: xz2::stream::Error| Error::Xz(e.to_string());
        if self.threads <= 1 {
            Stream::new_easy_encoder(self.preset, Check::Crc64).map_err(xz)
        } else {
            MtStreamBuilder::new()
                .preset(self.preset)
                .threads(self.threads)
                .check(Check::Crc64)
                .encoder()
                .map_err(xz)
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
}

/// An xz-compressed archive stream waiting in a temp file, with the digest to sign.
pub struct CompressedArchive {
    pub(crate) file: File,
    pub(crate) start: u64,
    pub(crate) len: u64,
    pub(crate) archive_len: u64,
    pub(crate) digest: [u8; 64],
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
    encode::check_limits(tree)?;
    let file = tempfile::tempfile_in(tmp_dir).map_err(Error::io(tmp_dir))?;
    let xz =
        xz2::write::XzEncoder::new_stream(BufWriter::with_capacity(1 << 20, file), compression.encoder()?);
    let mut tee = Sha512Writer::new(BufWriter::with_capacity(1 << 20, xz));
    let archive_len = encode::write_archive(tree, &mut tee)?;
    let (buffered, digest, _) = tee.finish();
    let io = Error::io(tmp_dir);
    let xz = buffered.into_inner().map_err(|e| Error::Io {
        path: tmp_dir.into(),
        source: e.into_error(),
    })?;
    let mut file = xz.finish().map_err(io)?.into_inner().map_err(|e| Error::Io {
        path: tmp_dir.into(),
        source: e.into_error(),
    })?;
    let len = file.stream_position().map_err(Error::io(tmp_dir))?;
    Ok(CompressedArchive {
        file,
        start: 0,
        len,
        archive_len,
        digest,
    })
}

/// Packs `tree` (which must hold `sandstorm-manifest`) into a signed `.spk` at `out`.
pub fn pack(tree: &Dir, key: &KeyPair, out: &Path, compression: Compression) -> Result<Written> {
    let manifest = tree_manifest(tree)?;
    let dir = parent_dir(out);
    let archive = compress_archive(tree, compression, dir)?;
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
    })
}

/// The directory `path` is in (`.` for a bare file name): where its temp file goes before the
/// rename into place.
pub fn parent_dir(out: &Path) -> &Path {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
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
    let tmp = tempfile::Builder::new()
        .prefix(".soiree-pack-")
        .suffix(".spk.tmp")
        .tempfile_in(dir)
        .map_err(Error::io(dir))?;
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
