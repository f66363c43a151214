//! `cache info` and `cache clean [--keep SIZE]` over soiree-pack's caches: the block cache and
//! the source cache (downloads, unpacked archives, command outputs and their logs).

use std::path::PathBuf;
use std::time::SystemTime;

use soiree_source::{CachedEntry, CachedKind};
use soiree_spk::BlockCache;

use crate::failure::Failure;

/// Which caches a `cache` command works on: both unless `--blocks` or `--sources` narrows it.
#[derive(Debug, Clone, Copy)]
pub struct Which {
    pub blocks: bool,
    pub sources: bool,
}

impl Which {
    pub fn new(blocks: bool, sources: bool) -> Which {
        if blocks || sources {
            Which { blocks, sources }
        } else {
            Which {
                blocks: true,
                sources: true,
            }
        }
    }
}

fn block_cache() -> Result<BlockCache, Failure> {
    BlockCache::open_default().ok_or_else(|| {
        Failure::machine(
            "neither SOIREE_PACK_CACHE_DIR, XDG_CACHE_HOME nor HOME is set; there is no block cache",
        )
    })
}

fn source_cache() -> Result<soiree_source::Cache, Failure> {
    soiree_source::Cache::default_root()
        .map(soiree_source::Cache::new)
        .map_err(Failure::from)
}

fn source_entries(cache: &soiree_source::Cache) -> Result<Vec<CachedEntry>, Failure> {
    cache.entries().map_err(Failure::from)
}

/// `cache info`: each cache's folder, and its entries and bytes (the source cache's by kind).
pub fn info(which: Which) -> Result<(), Failure> {
    if which.blocks {
        let cache = block_cache()?;
        let entries = cache.entries().map_err(Failure::from)?;
        println!(
            "{}: {} blocks, {} bytes",
            cache.root().display(),
            entries.len(),
            entries.iter().map(|e| e.1).sum::<u64>()
        );
    }
    if which.sources {
        let cache = source_cache()?;
        let entries = source_entries(&cache)?;
        println!(
            "{}: {} entries, {} bytes",
            cache.root().display(),
            entries.len(),
            entries.iter().map(|e| e.size).sum::<u64>()
        );
        for kind in CachedKind::ALL {
            let of_kind: Vec<&CachedEntry> = entries.iter().filter(|e| e.kind == kind).collect();
            println!(
                "  {}: {}, {} bytes",
                kind.plural(),
                of_kind.len(),
                of_kind.iter().map(|e| e.size).sum::<u64>()
            );
        }
    }
    Ok(())
}

/// An entry of either cache, for one least-recently-used order across both.
enum Item {
    Block(PathBuf),
    Source(CachedEntry),
}

/// What `clean` removed and kept of one cache, counted as the block cache counts its own.
type Tally = soiree_spk::block_cache::Trimmed;

/// `cache clean [--keep SIZE]`: the chosen caches emptied, or trimmed together to SIZE, least
/// recently used first. The source cache is taken exclusively first: while a build reads it,
/// nothing is removed and the command fails naming that build.
pub fn clean(keep: Option<&str>, which: Which) -> Result<(), Failure> {
    // A bad --keep is a usage error before anything else is looked at.
    let limit = keep
        .map(|size| {
            soiree_spk::block_cache::parse_size(size).map_err(|e| Failure::usage(format!("--keep {e}")))
        })
        .transpose()?;
    let blocks = which.blocks.then(block_cache).transpose()?;
    let sources = which.sources.then(source_cache).transpose()?;
    let _lock = match &sources {
        Some(cache) => cache.lock_for_cleaning().map_err(|e| match e {
            soiree_fs::LockError::Held { path, holder } => Failure::machine(format!(
                "the source cache is in use by {holder} ({}): nothing was removed; run `cache clean` again once it ends",
                path.display()
            )),
            io => Failure::machine(io),
        })?,
        None => None,
    };

    let mut items: Vec<(SystemTime, u64, Item)> = Vec::new();
    // Emptied, the block cache goes whole (`BlockCache::clean`, below); trimmed, its blocks take
    // their turn among the source cache's entries.
    if let (Some(cache), Some(_)) = (&blocks, limit) {
        let entries = cache.entries().map_err(Failure::from)?;
        items.extend(
            entries
                .into_iter()
                .map(|(used, size, path)| (used, size, Item::Block(path))),
        );
    }
    let mut leftovers = Vec::new();
    if let Some(cache) = &sources {
        for e in source_entries(cache)? {
            // Half-done work of killed runs is never used: it goes whatever the limit.
            if e.kind == CachedKind::Leftover {
                leftovers.push(e);
            } else {
                items.push((e.used, e.size, Item::Source(e)));
            }
        }
    }
    items.sort_by_key(|i| (i.0, i.1));
    let mut total: u64 = items.iter().map(|i| i.1).sum();
    let limit = limit.unwrap_or(0);
    let (mut b, mut s) = (Tally::default(), Tally::default());
    if let Some(cache) = &sources {
        for e in &leftovers {
            cache.remove_entry(e).map_err(Failure::from)?;
            s.removed += 1;
            s.freed += e.size;
        }
    }
    for (_, size, item) in &items {
        let tally = match item {
            Item::Block(_) => &mut b,
            Item::Source(_) => &mut s,
        };
        if total <= limit {
            tally.kept += 1;
            tally.kept_bytes += size;
            continue;
        }
        match (item, &blocks, &sources) {
            (Item::Block(path), Some(cache), _) => {
                cache.remove(path).map_err(Failure::from)?;
            }
            (Item::Source(e), _, Some(cache)) => cache.remove_entry(e).map_err(Failure::from)?,
            _ => {}
        }
        tally.removed += 1;
        tally.freed += size;
        total -= size;
    }
    if let Some(cache) = &blocks {
        if limit == 0 {
            // The version folder too, so an old format's leftovers never linger.
            b = cache.clean().map_err(Failure::from)?;
        }
        println!(
            "{}: removed {} blocks ({} bytes); {} blocks ({} bytes) kept",
            cache.root().display(),
            b.removed,
            b.freed,
            b.kept,
            b.kept_bytes
        );
    }
    if let Some(cache) = &sources {
        println!(
            "{}: removed {} entries ({} bytes); {} entries ({} bytes) kept",
            cache.root().display(),
            s.removed,
            s.freed,
            s.kept,
            s.kept_bytes
        );
    }
    Ok(())
}
