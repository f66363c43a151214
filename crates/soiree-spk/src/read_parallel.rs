//! Opening a package whose archive stream records its blocks (every package soiree-pack writes):
//! the blocks are decompressed in parallel straight into the mapped temp file, at the offsets the
//! index gives, while this thread reads the file once in order for the package id and hashes the
//! archive as its blocks complete. Memory stays at a few compressed blocks per worker.
//!
//! This is only a faster road to the same result as [`crate::read::open`]'s serial reader: any
//! surprise (no index, one block, a block that fails, a digest that differs) returns `None`, and
//! the serial reader runs and reports the error in its own words.

use std::collections::BTreeMap;
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
/// Compressed blocks are read whole, a few per worker; bigger ones (no writer soiree-pack knows
/// makes them) go to the serial reader, which streams.
const MAX_BLOCK: u64 = 64 << 20;

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

type Job<'m> = (usize, Vec<u8>, Record, &'m mut [u8]);
type Finished<'m> = (usize, Result<(), String>, &'m mut [u8]);

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
    // SAFETY: the file is our own anonymous temp file; nothing else can modify it.
    let mut out = unsafe { memmap2::MmapMut::map_mut(&tmp) }.ok()?;
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let (sha256, digest) = decode_all(&file, len, &map, &mut out, workers)?;
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
        out.make_read_only().ok()?,
        tmp,
    ))
}

/// Reads `file` once in order (SHA-256 of all of it), hands each block to a worker that
/// decompresses it into its slice of `out`, and hashes `out` in order as slices come back.
fn decode_all(
    file: &File,
    len: u64,
    map: &StreamMap,
    out: &mut [u8],
    workers: usize,
) -> Option<([u8; 32], [u8; 64])> {
    let mut slices = Vec::with_capacity(map.blocks.len());
    let mut rest = out;
    for (_, r) in &map.blocks {
        let (slice, tail) = rest.split_at_mut(usize::try_from(r.uncompressed).ok()?);
        slices.push(slice);
        rest = tail;
    }
    let limit = 2 * workers;
    let (job_tx, job_rx) = mpsc::sync_channel::<Job<'_>>(limit);
    let (done_tx, done_rx) = mpsc::channel::<Finished<'_>>();
    let job_rx = Mutex::new(job_rx);
    let header = &map.header;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done = done_tx.clone();
            let jobs = &job_rx;
            scope.spawn(move || loop {
                let job = match jobs.lock() {
                    Ok(rx) => rx.recv(),
                    Err(poisoned) => poisoned.into_inner().recv(),
                };
                let Ok((i, block, record, slice)) = job else {
                    return;
                };
                let result = block_codec::decompress(header, &block, record, slice);
                if done.send((i, result, slice)).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        let mut reader = file.try_clone().ok()?;
        let mut sha256 = Sha256::new();
        let mut order = InOrder::default();
        let mut pos = 0u64;
        let mut take = |n: u64, sha256: &mut Sha256| -> Option<Vec<u8>> {
            let mut buf = vec![0u8; usize::try_from(n).ok()?];
            reader.read_exact(&mut buf).ok()?;
            sha256.update(&buf);
            pos += n;
            Some(buf)
        };
        take(map.blocks[0].0, &mut sha256)?;
        for (i, ((_, record), slice)) in map.blocks.iter().zip(slices).enumerate() {
            let block = take(record.padded(), &mut sha256)?;
            while i - order.completed() >= limit {
                order.accept(done_rx.recv().ok()?)?;
            }
            job_tx.send((i, block, *record, slice)).ok()?;
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

/// Hashes decompressed blocks in archive order as they come back in any order.
#[derive(Default)]
struct InOrder<'m> {
    sha512: Sha512,
    hashed: usize,
    ready: BTreeMap<usize, &'m mut [u8]>,
}

impl<'m> InOrder<'m> {
    fn completed(&self) -> usize {
        self.hashed + self.ready.len()
    }

    fn accept(&mut self, (i, result, slice): Finished<'m>) -> Option<()> {
        result.ok()?;
        self.ready.insert(i, slice);
        while let Some(s) = self.ready.remove(&self.hashed) {
            self.sha512.update(&*s);
            self.hashed += 1;
        }
        Some(())
    }
}
