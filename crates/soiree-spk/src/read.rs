//! Opening and verifying a `.spk` the way Sandstorm's `spk verify` does: magic, xz (any number of
//! concatenated streams), the signature, the archive digest, the app-id replacement table, and —
//! for `verify` — the manifest and every entry of the archive.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use capnp::message::ReaderSegments;
use sha2::Digest;
use soiree_schema::archive_capnp::{archive, signature as signature_msg};
use soiree_schema::SPK_MAGIC;

use crate::archive_entries::{self, Content, Files};
use crate::error::{Error, Result};
use crate::hashio::{Sha256Reader, Sha512Writer};
use crate::ids::{AppId, PackageId};
use crate::limits;
use crate::manifest::{self, ManifestInfo};
use crate::message::{self, FramedSegments};
use crate::replacements;
use crate::signature;

/// A package whose signature and digest have been checked; its archive is decompressed into an
/// anonymous temp file and mapped.
pub struct Opened {
    /// The key that signed the package.
    pub signer: AppId,
    /// The app id the package belongs to (the signer, after Sandstorm's replacement table).
    pub app_id: AppId,
    pub package_id: PackageId,
    pub file_size: u64,
    pub archive_sha512: [u8; 64],
    /// Length of the decompressed archive message(s) after the signature.
    pub archive_len: u64,
    /// Length of the framed `Signature` message.
    pub signature_len: u64,
    map: Option<memmap2::Mmap>,
    _file: File,
}

/// A package that also passed `spk verify`'s manifest and archive checks.
pub struct Verified {
    pub opened: Opened,
    pub manifest: ManifestInfo,
    pub stats: ArchiveStats,
    /// Each xz filter chain of the package's blocks and how many use it (`None`: not read).
    pub filters: Option<crate::filter_chains::FilterChains>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveStats {
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub bytes: u64,
    pub segments: u64,
}

/// Remembers the first error the xz decoder reported, so a failure further up (in the Cap'n
/// Proto reader, or while copying to the temp file) can be blamed on the right thing.
struct XzSource<R> {
    inner: R,
    error: Option<String>,
    /// The decoder stopped at [`limits::XZ_MEMLIMIT`]: that is the error, wherever it surfaces.
    over_memlimit: bool,
}

impl<R: Read> Read for XzSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if self.error.is_none() {
                self.error = Some(if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    "the file ends in the middle of the xz stream".into()
                } else if e.to_string() == xz2::stream::Error::MemLimit.to_string() {
                    self.over_memlimit = true;
                    format!(
                        "a block needs more than {} MiB to decompress (its header declares a \
                         dictionary larger than any xz preset's)",
                        limits::XZ_MEMLIMIT >> 20
                    )
                } else {
                    e.to_string()
                });
            }
        })
    }
}

/// Checks magic, xz, signature, digest and the replacement table (what `spk unpack` checks).
/// Blocks are decompressed in parallel when the archive stream's index lists them.
pub fn open(path: &Path) -> Result<Opened> {
    if let Some(opened) = crate::read_parallel::open(path) {
        return Ok(opened);
    }
    open_serial(path)
}

/// [`open`] with one decoder over the whole file, as `xz -dc` reads it.
pub fn open_serial(path: &Path) -> Result<Opened> {
    let file = File::open(path).map_err(Error::io(path))?;
    open_reader(file, path)
}

impl Opened {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        signer: AppId,
        app_id: AppId,
        package_id: PackageId,
        file_size: u64,
        archive_sha512: [u8; 64],
        archive_len: u64,
        signature_len: u64,
        map: memmap2::Mmap,
        file: File,
    ) -> Opened {
        Opened {
            signer,
            app_id,
            package_id,
            file_size,
            archive_sha512,
            archive_len,
            signature_len,
            map: Some(map),
            _file: file,
        }
    }
}

pub(crate) fn open_reader<R: Read>(input: R, path: &Path) -> Result<Opened> {
    let mut raw = BufReader::with_capacity(1 << 20, Sha256Reader::new(input));
    let mut magic = [0u8; 8];
    raw.read_exact(&mut magic).map_err(|_| Error::BadMagic)?;
    if magic != SPK_MAGIC {
        return Err(Error::BadMagic);
    }
    let decoder = xz2::stream::Stream::new_stream_decoder(limits::XZ_MEMLIMIT, lzma_sys::LZMA_CONCATENATED)
        .map_err(|e| Error::Xz(e.to_string()))?;
    let mut xz = XzSource {
        inner: xz2::bufread::XzDecoder::new_stream(raw, decoder),
        error: None,
        over_memlimit: false,
    };
    // The signature is tiny; a huge segment table is rejected before anything is allocated.
    let mut opts = capnp::message::ReaderOptions::new();
    opts.traversal_limit_in_words(Some(1 << 17));
    let sig_msg = capnp::serialize::read_message(&mut xz, opts).map_err(|e| match e.kind {
        _ if xz.over_memlimit => Error::Xz(xz.error.take().unwrap_or_default()),
        capnp::ErrorKind::PrematureEndOfFile => Error::Truncated("Signature"),
        _ if e.to_string().contains("xz") || e.to_string().contains("corrupt") => Error::Xz(e.to_string()),
        _ => Error::BadMessage {
            what: "Signature",
            reason: e.to_string(),
        },
    })?;
    let segments = sig_msg.get_segments();
    let signature_len = (segments.len() as u64 + 2) / 2 * 8
        + (0..segments.len() as u32)
            .filter_map(|i| segments.get_segment(i))
            .map(|s| s.len() as u64)
            .sum::<u64>();
    let (signer, signed_digest) = signature::open(
        sig_msg
            .get_root::<signature_msg::Reader>()
            .map_err(Error::message("Signature"))?,
    )?;

    let tmp = tempfile::tempfile().map_err(Error::io(std::env::temp_dir()))?;
    let mut sink = Sha512Writer::new(BufWriter::with_capacity(1 << 20, tmp));
    let copied =
        std::io::copy(&mut (&mut xz).take(limits::MAX_ARCHIVE_SIZE + 1), &mut sink).map_err(|e| match xz
            .error
            .take()
        {
            Some(xz_problem) => Error::Xz(xz_problem),
            None => Error::Io {
                path: std::env::temp_dir(),
                source: e,
            },
        })?;
    if copied > limits::MAX_ARCHIVE_SIZE {
        return Err(Error::ArchiveTooBig {
            limit: limits::MAX_ARCHIVE_SIZE,
        });
    }
    let (buffered, digest, archive_len) = sink.finish();
    let file = buffered.into_inner().map_err(|e| Error::Io {
        path: path.into(),
        source: e.into_error(),
    })?;

    // Every byte of the file counts towards the package id, including any the decoder left.
    let mut raw = xz.inner.into_inner();
    loop {
        let n = raw.fill_buf().map_err(Error::io(path))?.len();
        if n == 0 {
            break;
        }
        raw.consume(n);
    }
    let hashing = raw.into_inner();
    let sha256: [u8; 32] = hashing.hasher.finalize().into();
    let package_id = PackageId::from_sha256(&sha256);

    if digest != signed_digest {
        return Err(Error::DigestMismatch);
    }
    let app_id = replacements::canonical_app_id(&signer, &package_id)?;
    let map = if archive_len == 0 {
        None
    } else {
        // SAFETY: the file is our own anonymous temp file; nothing else can modify it.
        Some(unsafe { memmap2::Mmap::map(&file) }.map_err(Error::io(path))?)
    };
    Ok(Opened {
        signer,
        app_id,
        package_id,
        file_size: hashing.count,
        archive_sha512: digest,
        archive_len,
        signature_len,
        map,
        _file: file,
    })
}

/// A reader of the archive message with `spk unpack`'s limits: the archive's own size as the
/// traversal limit (so no object may be read twice) and a nesting limit of 128.
pub type ArchiveMessage<'a> = capnp::message::Reader<FramedSegments<&'a [u8]>>;

impl Opened {
    /// The decompressed archive bytes (after the signature message).
    pub fn archive_bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    pub fn archive_message(&self) -> Result<ArchiveMessage<'_>> {
        let bytes = self.archive_bytes();
        let framed = message::frame(bytes, bytes.len() as u64 / 4 + 1).map_err(|e| Error::BadMessage {
            what: "Archive",
            reason: e.to_string(),
        })?;
        let mut opts = capnp::message::ReaderOptions::new();
        opts.traversal_limit_in_words(Some(framed.total_words().max(1) as usize));
        opts.nesting_limit(limits::UNPACK_NESTING_LIMIT);
        Ok(capnp::message::Reader::new(framed, opts))
    }

    /// Writes `data`, which must lie inside [`Opened::archive_bytes`], to `out` a chunk at a time
    /// read from the temp file: touching the mapping instead would make every page of a large
    /// package resident in this process while it is unpacked.
    pub fn copy_to(&self, data: &[u8], out: &mut impl Write) -> std::io::Result<()> {
        let base = self.archive_bytes().as_ptr() as usize;
        let start = (data.as_ptr() as usize).wrapping_sub(base);
        if data.is_empty() {
            return Ok(());
        }
        if start > self.archive_bytes().len() || data.len() > self.archive_bytes().len() - start {
            return out.write_all(data);
        }
        let mut chunk = vec![0u8; data.len().min(limits::COPY_BUFFER)];
        let mut at = start as u64;
        let mut left = data.len();
        while left > 0 {
            let n = left.min(chunk.len());
            self._file.read_exact_at(&mut chunk[..n], at)?;
            out.write_all(&chunk[..n])?;
            at += n as u64;
            left -= n;
        }
        Ok(())
    }

    pub fn segment_count(&self) -> usize {
        message::frame(self.archive_bytes(), self.archive_bytes().len() as u64 / 4 + 1)
            .map(|f| f.segment_count())
            .unwrap_or(0)
    }
}

/// Everything `spk verify` checks, plus every name, duplicate and nesting rule of `spk unpack`.
/// Also reports the filter chains of the package's blocks.
pub fn verify(path: &Path) -> Result<Verified> {
    let verified = verify_opened(open(path)?)?;
    Ok(Verified {
        filters: crate::filter_chains::of_path(path),
        ..verified
    })
}

pub(crate) fn verify_opened(opened: Opened) -> Result<Verified> {
    // Two readers, as in Sandstorm: the size-based traversal limit allows one pass each.
    let manifest = {
        let msg = opened.archive_message()?;
        let root = msg
            .get_root::<archive::Reader>()
            .map_err(Error::message("Archive"))?;
        let files = root.get_files().map_err(Error::message("Archive"))?;
        let mut found = None;
        for f in files.iter() {
            if f.get_name()
                .map(|n| n.as_bytes() == b"sandstorm-manifest")
                .unwrap_or(false)
            {
                match f.which().map_err(|_| Error::ManifestNotRegular)? {
                    archive::file::Regular(data) => {
                        found = Some(manifest::read(data.map_err(Error::message("Archive"))?)?)
                    }
                    _ => return Err(Error::ManifestNotRegular),
                }
                break;
            }
        }
        found.ok_or(Error::NoManifest)?
    };
    let mut stats = ArchiveStats {
        segments: opened.segment_count() as u64,
        ..ArchiveStats::default()
    };
    {
        let msg = opened.archive_message()?;
        let root = msg
            .get_root::<archive::Reader>()
            .map_err(Error::message("Archive"))?;
        walk(
            root.get_files().map_err(Error::message("Archive"))?,
            &mut stats,
            b"",
        )?;
    }
    Ok(Verified {
        opened,
        manifest,
        stats,
        filters: None,
    })
}

fn walk(files: Files<'_>, stats: &mut ArchiveStats, path: &[u8]) -> Result<()> {
    for item in archive_entries::read(files, path)? {
        match item.content {
            Content::File { data, .. } => {
                stats.files += 1;
                stats.bytes += data.len() as u64;
            }
            Content::Symlink(_) => stats.symlinks += 1,
            Content::Dir(d) => {
                stats.directories += 1;
                walk(d, stats, &item.path)?;
            }
        }
    }
    Ok(())
}
