//! `party.lock`: every download of the party fetched, checked against its pin (or pinned on first
//! use) and recorded, so later builds are reproducible and offline.

use std::path::PathBuf;

use soiree_party::{Party, SourceDef};

use crate::BuildError;

/// A download pinned on first use: the sum to compare with the publisher's before committing.
#[derive(Debug, Clone)]
pub struct FirstPin {
    pub name: String,
    pub url: String,
    pub sha256: String,
}

/// What `lock_downloads` did.
#[derive(Debug)]
pub struct Locked {
    pub path: PathBuf,
    /// Downloads verified and recorded.
    pub count: usize,
    pub first_pins: Vec<FirstPin>,
}

/// Fetches every URL source of `party` (as loaded for its profile) and records it in
/// `party.lock`, keeping entries of sources only other profiles download.
pub fn lock_downloads(party: &Party, offline: bool) -> Result<Locked, BuildError> {
    let path = party.root.join(soiree_source::LOCK_FILE_NAME);
    let cache = soiree_source::Cache::open_default()?;
    let fetcher = soiree_source::Fetcher::new(cache)
        .offline(offline)
        .base_dir(&party.root);
    let mut lock = soiree_source::Lock::load(&path)?;
    let mut count = 0;
    let mut first_pins = Vec::new();
    for (name, def) in &party.sources {
        let SourceDef::Url {
            url, sha256, size, ..
        } = def
        else {
            continue;
        };
        let (file, digest) = match sha256 {
            Some(sha256) => {
                let source = soiree_source::Source::url(name, url, sha256, *size)?;
                let Some(pin) = source.pin() else { continue };
                (fetcher.fetch(name, pin)?, pin.sha256)
            }
            None => {
                let (file, digest) = fetcher.fetch_unpinned(name, url, *size)?;
                // Trust on first use: the caller says so, so that someone compares it with the
                // publisher's checksum before the lock is committed.
                first_pins.push(FirstPin {
                    name: name.clone(),
                    url: url.clone(),
                    sha256: digest.hex(),
                });
                (file, digest)
            }
        };
        let size = std::fs::metadata(&file).map(|m| m.len()).ok();
        lock.record(soiree_source::LockEntry {
            name: name.clone(),
            url: url.clone(),
            sha256: digest,
            size,
        });
        count += 1;
    }
    // Entries of sources that only another profile downloads stay: every profile's sources
    // share [sources]' names, so only a name no longer defined at all is dropped.
    lock.retain(|n| party.sources.contains_key(n));
    lock.save()?;
    Ok(Locked {
        path,
        count,
        first_pins,
    })
}
