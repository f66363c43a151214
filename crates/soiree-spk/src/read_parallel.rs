//! Opening a package whose archive stream records its blocks (every package soiree-pack writes):
//! the blocks are decompressed in parallel into the temp file, at the offsets the index gives,
//! while this thread reads the file once in order for the package id and hashes the archive as
//! its blocks complete. Memory stays at a few compressed blocks and one output chunk per worker,
//! whatever the index claims: blocks are written with `pwrite` a chunk at a time and hashed by
//! reading them back, never through a writable mapping, whose every written page would stay
//! resident (a 170 KB package of zeros expanding to 960 MiB took 970 MiB that way).
//!
//! This is only a faster road to the same result as [`crate::read::open`]'s serial reader: any
//! surprise (no index, one block, a block that fails, a digest that differs) returns `None`, and
//! the serial reader runs and reports the error in its own words.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Mutex;

use sha2::{Digest, Sha256, Sha512};
use soiree_schema::archive_capnp::signature as signature_msg;
use soiree_schema::SPK_MAGIC;

use crate::block_codec;
use crate::ids::{AppId, PackageId};
use crate::limits;
use crate::read::Opened;
use crate::replacements;
use crate::signature;
use crate::stream_map::{self, StreamMap};
use crate::xz_format::Record;

/// What the streams before the archive's own stream hold: exactly one `Signature`.
pub(crate) struct Prefix {
    pub signer: AppId,
    pub digest: [u8; 64],
    pub signature_len: u64,
}

/// A signature stream is a few hundred bytes.
const MAX_PREFIX: u64 = 64 << 10;
/// Compressed blocks are read whole, a few per worker; bigger ones go to the serial reader, which
/// streams. soiree-pack's blocks hold at most about 4.5 MiB, even incompressible.
const MAX_BLOCK: u64 = 16 << 20;
/// Decompressed bytes go to the temp file, and are hashed back from it, this much at a time.
const CHUNK: usize = 1 << 20;

/// Decodes the streams between the magic and `map.start`; `None` unless they hold exactly one
/// valid `Signature` message.
pub(crate) fn read_prefix(file: &File, map: &StreamMap) -> Option<Prefix> {
    let len = map.start.checked_sub(SPK_MAGIC.len() as u64)?;
    if len == 0 || len > MAX_PREFIX {
        return None;
    }
    let mut raw = vec![0u8; len as usize];
    file.read_exact_at(&mut raw, SPK_MAGIC.len() as u64).ok()?;
    let mut payload = Vec::new();
    xz2::read::XzDecoder::new_multi_decoder(&raw[..])
        .take(MAX_PREFIX)
        .read_to_end(&mut payload)
        .ok()?;
    let mut rest = &payload[..];
    let msg = capnp::serialize::read_message(&mut rest, crate::message::small_options()).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let (signer, digest) = signature::open(msg.get_root::<signature_msg::Reader>().ok()?).ok()?;
    Some(Prefix {
        signer,
        digest,
        signature_len: payload.len() as u64,
    })
}

/// A block to decompress: its number, its bytes, its index record, where its output goes.
type Job = (usize, Vec<u8>, Record, u64);
type Finished = (usize, Result<(), String>);

/// Opens `path` with parallel decompression, or `None` to have the serial reader do it.
pub(crate) fn open(path: &Path) -> Option<Opened> {
    let file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut magic = [0u8; 8];
    file.read_exact_at(&mut magic, 0).ok()?;
    if magic != SPK_MAGIC {
        return None;
    }
    let map = stream_map::map_last_stream(&file, len, SPK_MAGIC.len() as u64)?;
    if map.blocks.len() < 2
        || map.uncompressed == 0
        || map.uncompressed > limits::MAX_ARCHIVE_SIZE
        || map.blocks.iter().any(|(_, r)| r.padded() > MAX_BLOCK)
    {
        return None;
    }
    let prefix = read_prefix(&file, &map)?;
    let tmp = tempfile::tempfile().ok()?;
    tmp.set_len(map.uncompressed).ok()?;
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let (sha256, digest) = decode_all(&file, len, &map, &tmp, workers)?;
    if digest != prefix.digest {
        return None;
    }
    let package_id = PackageId::from_sha256(&sha256);
    let app_id = replacements::canonical_app_id(&prefix.signer, &package_id).ok()?;
    Some(Opened::from_parts(
        prefix.signer,
        app_id,
        package_id,
        len,
        digest,
        map.uncompressed,
        prefix.signature_len,
        // SAFETY: the file is our own anonymous temp file; nothing else can modify it.
        unsafe { memmap2::Mmap::map(&tmp) }.ok()?,
        tmp,
    ))
}

/// Reads `file` once in order (SHA-256 of all of it), hands each block to a worker that
/// decompresses it into its range of `out`, and hashes `out` in order as ranges complete.
fn decode_all(
    file: &File,
    len: u64,
    map: &StreamMap,
    out: &File,
    workers: usize,
) -> Option<([u8; 32], [u8; 64])> {
    let mut offsets = Vec::with_capacity(map.blocks.len());
    let mut end = 0u64;
    for (_, r) in &map.blocks {
        offsets.push(end);
        end = end.checked_add(r.uncompressed)?;
    }
    if end != map.uncompressed {
        return None;
    }
    let limit = 2 * workers;
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(limit);
    let (done_tx, done_rx) = mpsc::channel::<Finished>();
    let job_rx = Mutex::new(job_rx);
    let header = &map.header;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done = done_tx.clone();
            let jobs = &job_rx;
            scope.spawn(move || {
                let mut chunk = vec![0u8; CHUNK];
                loop {
                    let job = match jobs.lock() {
                        Ok(rx) => rx.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    let Ok((i, block, record, mut at)) = job else {
                        return;
                    };
                    let result =
                        block_codec::decompress_chunked(header, &block, record, &mut chunk, |piece| {
                            out.write_all_at(piece, at).map_err(|e| e.to_string())?;
                            at += piece.len() as u64;
                            Ok(())
                        });
                    drop(block);
                    if done.send((i, result)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        let mut reader = file.try_clone().ok()?;
        let mut sha256 = Sha256::new();
        let mut order = InOrder::new(out, &map.blocks, &offsets);
        let mut pos = 0u64;
        let mut take = |n: u64, sha256: &mut Sha256| -> Option<Vec<u8>> {
            let mut buf = vec![0u8; usize::try_from(n).ok()?];
            reader.read_exact(&mut buf).ok()?;
            sha256.update(&buf);
            pos += n;
            Some(buf)
        };
        take(map.blocks[0].0, &mut sha256)?;
        for (i, ((_, record), &at)) in map.blocks.iter().zip(&offsets).enumerate() {
            let block = take(record.padded(), &mut sha256)?;
            while i - order.completed() >= limit {
                order.accept(done_rx.recv().ok()?)?;
            }
            job_tx.send((i, block, *record, at)).ok()?;
            while let Ok(done) = done_rx.try_recv() {
                order.accept(done)?;
            }
        }
        drop(job_tx);
        // The index, footer and any stream padding count towards the package id too.
        let mut tail = Vec::new();
        reader.read_to_end(&mut tail).ok()?;
        sha256.update(&tail);
        if pos + tail.len() as u64 != len {
            return None;
        }
        while order.hashed < map.blocks.len() {
            order.accept(done_rx.recv().ok()?)?;
        }
        Some((sha256.finalize().into(), order.sha512.finalize().into()))
    })
}

/// Hashes decompressed blocks in archive order, read back from the temp file a chunk at a time,
/// as they complete in any order.
struct InOrder<'a> {
    out: &'a File,
    blocks: &'a [(u64, Record)],
    offsets: &'a [u64],
    sha512: Sha512,
    hashed: usize,
    ready: BTreeSet<usize>,
    chunk: Vec<u8>,
}

impl<'a> InOrder<'a> {
    fn new(out: &'a File, blocks: &'a [(u64, Record)], offsets: &'a [u64]) -> InOrder<'a> {
        InOrder {
            out,
            blocks,
            offsets,
            sha512: Sha512::new(),
            hashed: 0,
            ready: BTreeSet::new(),
            chunk: vec![0u8; CHUNK],
        }
    }

    fn completed(&self) -> usize {
        self.hashed + self.ready.len()
    }

    fn accept(&mut self, (i, result): Finished) -> Option<()> {
        result.ok()?;
        self.ready.insert(i);
        while self.ready.remove(&self.hashed) {
            let mut at = self.offsets[self.hashed];
            let mut left = self.blocks[self.hashed].1.uncompressed;
            while left > 0 {
                let n = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
                self.out.read_exact_at(&mut self.chunk[..n], at).ok()?;
                self.sha512.update(&self.chunk[..n]);
                at += n as u64;
                left -= n as u64;
            }
            self.hashed += 1;
        }
        Some(())
    }
}
