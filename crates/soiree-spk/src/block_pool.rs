//! Compressing blocks in parallel: a worker per core takes blocks from a bounded queue, looks each
//! up in the block cache or compresses it, and the caller's thread writes the results in order as
//! one xz stream. At most [`in_flight`] blocks are queued or being worked on, and finished blocks
//! waiting for an earlier one to be written hold at most [`WAITING_BYTES`] of compressed bytes, so
//! memory depends on the worker count and block size, not on the package.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Mutex;

use crate::block_cache::{BlockCache, Lookup};
use crate::block_codec::{self, EncodedBlock};
use crate::error::{Error, Result};
use crate::xz_format::{self, Record, CHECK_CRC64};

/// What happened to the blocks of one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockStats {
    pub blocks: u64,
    /// Blocks compressed by this run.
    pub compressed: u64,
    /// Blocks taken from the cache.
    pub from_cache: u64,
    /// Cache entries that failed their check, were removed and rebuilt.
    pub corrupt_entries: u64,
    /// Blocks that could not be stored in the cache (the package is fine).
    pub cache_write_errors: u64,
    /// Uncompressed bytes that went through the compressor.
    pub bytes_compressed: u64,
}

/// Every stream this process writes, counted as it goes: what a progress display reads from
/// another thread while `pack` runs (the totals only grow; a display takes differences).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveProgress {
    /// Uncompressed bytes handed to the block workers.
    pub bytes_in: u64,
    pub compressed: u64,
    pub from_cache: u64,
}

static LIVE_BYTES_IN: AtomicU64 = AtomicU64::new(0);
static LIVE_COMPRESSED: AtomicU64 = AtomicU64::new(0);
static LIVE_FROM_CACHE: AtomicU64 = AtomicU64::new(0);

/// The counts so far of every stream written by this process.
pub fn live_progress() -> LiveProgress {
    LiveProgress {
        bytes_in: LIVE_BYTES_IN.load(Ordering::Relaxed),
        compressed: LIVE_COMPRESSED.load(Ordering::Relaxed),
        from_cache: LIVE_FROM_CACHE.load(Ordering::Relaxed),
    }
}

/// Blocks queued or being worked on (each holds its uncompressed bytes).
fn in_flight(workers: usize) -> usize {
    2 * workers
}

/// Compressed bytes of finished blocks that may wait for an earlier block to be written.
///
/// A re-pack is mostly cache hits, which finish at once, around one or two blocks that are
/// compressed for a second each. Counting waiting blocks against [`in_flight`] made the reader
/// stop behind the first slow block, so the compressions ran one after the other; bounding them
/// by bytes lets the hits stream past while the slow blocks compress side by side. A full pack
/// finishes blocks nearly in order and never comes near this.
pub const WAITING_BYTES: usize = 64 << 20;

/// A block's place in the stream, its bytes, and whether it is machine code.
type Job = (usize, Vec<u8>, bool);

enum Got {
    Compressed { corrupt: bool, cache_failed: bool },
    Cached,
}

struct Done {
    block: EncodedBlock,
    got: Got,
}

fn work_on(data: &[u8], x86: bool, preset: u32, cache: Option<&BlockCache>) -> Result<Done> {
    let key = cache.map(|_| BlockCache::key(preset, x86, data));
    let mut corrupt = false;
    if let (Some(cache), Some(key)) = (cache, &key) {
        match cache.get(key, data) {
            Lookup::Hit(block) => {
                return Ok(Done {
                    block,
                    got: Got::Cached,
                })
            }
            Lookup::Corrupt => corrupt = true,
            Lookup::Miss => {}
        }
    }
    let block = block_codec::compress(data, preset, x86)?;
    let cache_failed = match (cache, &key) {
        (Some(cache), Some(key)) => cache.put(key, &block).is_err(),
        _ => false,
    };
    Ok(Done {
        block,
        got: Got::Compressed {
            corrupt,
            cache_failed,
        },
    })
}

fn worker(
    jobs: &Mutex<Receiver<Job>>,
    results: Sender<(usize, usize, Result<Done>)>,
    preset: u32,
    cache: Option<&BlockCache>,
) {
    loop {
        // A panic elsewhere cannot leave the receiver half-changed, so a poisoned lock is usable.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok((index, data, x86)) = job else { return };
        let done = work_on(&data, x86, preset, cache);
        if results.send((index, data.len(), done)).is_err() {
            return;
        }
    }
}

/// Takes blocks in archive order and writes the stream.
pub struct Submitter<'a, W: Write> {
    out: &'a mut W,
    out_path: &'a Path,
    jobs: Option<SyncSender<Job>>,
    results: Receiver<(usize, usize, Result<Done>)>,
    pending: BTreeMap<usize, Done>,
    /// Compressed bytes held in `pending`.
    pending_bytes: usize,
    submitted: usize,
    written: usize,
    limit: usize,
    records: Vec<Record>,
    stats: BlockStats,
    stream_len: u64,
}

impl<W: Write> Submitter<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream_len += bytes.len() as u64;
        self.out.write_all(bytes).map_err(Error::io(self.out_path))
    }

    /// Hands over the next block (`x86`: machine code, see [`block_codec::compress`]); waits
    /// while too many are in flight.
    pub fn submit(&mut self, data: Vec<u8>, x86: bool) -> Result<()> {
        let len = data.len();
        while self.submitted - self.written - self.pending.len() >= self.limit
            || self.pending_bytes > WAITING_BYTES
        {
            self.receive(true)?;
        }
        let sent = match &self.jobs {
            Some(jobs) => jobs.send((self.submitted, data, x86)).is_ok(),
            None => false,
        };
        if !sent {
            return Err(Error::Xz("the compression workers stopped".into()));
        }
        LIVE_BYTES_IN.fetch_add(len as u64, Ordering::Relaxed);
        self.submitted += 1;
        while self.receive(false)? {}
        Ok(())
    }

    /// Takes one result (waiting for it if `wait`) and writes whatever is now next in order.
    fn receive(&mut self, wait: bool) -> Result<bool> {
        let (index, len, done) = if wait {
            self.results
                .recv()
                .map_err(|_| Error::Xz("the compression workers stopped".into()))?
        } else {
            match self.results.try_recv() {
                Ok(r) => r,
                Err(_) => return Ok(false),
            }
        };
        let done = done?;
        match done.got {
            Got::Cached => {
                self.stats.from_cache += 1;
                LIVE_FROM_CACHE.fetch_add(1, Ordering::Relaxed);
            }
            Got::Compressed {
                corrupt,
                cache_failed,
            } => {
                self.stats.compressed += 1;
                LIVE_COMPRESSED.fetch_add(1, Ordering::Relaxed);
                self.stats.bytes_compressed += len as u64;
                self.stats.corrupt_entries += u64::from(corrupt);
                self.stats.cache_write_errors += u64::from(cache_failed);
            }
        }
        self.pending_bytes += done.block.bytes.len();
        self.pending.insert(index, done);
        while let Some(done) = self.pending.remove(&self.written) {
            self.pending_bytes -= done.block.bytes.len();
            self.write(&done.block.bytes)?;
            self.records.push(done.block.record);
            self.written += 1;
        }
        Ok(true)
    }

    fn finish(mut self) -> Result<(BlockStats, u64)> {
        self.jobs = None;
        while self.written < self.submitted {
            self.receive(true)?;
        }
        let index = xz_format::index(&self.records);
        self.write(&index)?;
        self.write(&xz_format::stream_footer(index.len() as u64, CHECK_CRC64))?;
        self.stats.blocks = self.records.len() as u64;
        Ok((self.stats, self.stream_len))
    }
}

/// Writes one xz stream to `out` made of the blocks `produce` submits, compressed by `workers`
/// threads with `preset`, through `cache` if given. Returns what `produce` returned, the block
/// statistics and the stream's length.
pub fn write_stream<W: Write, T>(
    out: &mut W,
    out_path: &Path,
    preset: u32,
    workers: usize,
    cache: Option<&BlockCache>,
    produce: impl FnOnce(&mut Submitter<'_, W>) -> Result<T>,
) -> Result<(T, BlockStats, u64)> {
    let workers = workers.max(1);
    let limit = in_flight(workers);
    let (job_tx, job_rx) = mpsc::sync_channel(limit);
    let (result_tx, result_rx) = mpsc::channel();
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let results = result_tx.clone();
            let jobs = &job_rx;
            scope.spawn(move || worker(jobs, results, preset, cache));
        }
        drop(result_tx);
        let mut submitter = Submitter {
            out,
            out_path,
            jobs: Some(job_tx),
            results: result_rx,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            submitted: 0,
            written: 0,
            limit,
            records: Vec::new(),
            stats: BlockStats::default(),
            stream_len: 0,
        };
        submitter.write(&xz_format::stream_header(CHECK_CRC64))?;
        // On an error the submitter is dropped here, which closes the queue: the workers finish
        // the block in hand and stop, and the scope waits for them.
        let value = produce(&mut submitter)?;
        let (stats, len) = submitter.finish()?;
        Ok((value, stats, len))
    })
}
