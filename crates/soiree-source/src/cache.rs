//! The content-addressed cache: downloads under `sha256/<hex>`, unpacked archives under
//! `extracted/v1/<hex>-<format>-strip<n>`, command sources' outputs under `built/v1/<key>`. Entries only ever appear by rename once complete, so
//! whatever is there under its final name can be used as it is.
//!
//! The user's cache is held with a shared lock (`in-use.lock`) while a [`Cache`] from
//! [`Cache::open_default`] lives, so `cache clean`, which takes it exclusively, never removes an
//! entry a build is reading.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::digest::Sha256;
use crate::error::{Error, Result};
use crate::source::ArchiveFormat;

/// The lock file at the cache's root: shared by builds, exclusive for `cache clean`.
pub const IN_USE_LOCK: &str = "in-use.lock";

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    /// The shared lock, released when the last clone is dropped.
    _in_use: Option<Arc<soiree_fs::Lock>>,
}

impl PartialEq for Cache {
    fn eq(&self, other: &Cache) -> bool {
        self.root == other.root
    }
}

impl Eq for Cache {}

impl Cache {
    /// A cache rooted at `root` (created when something is first stored), without a lock.
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache {
            root: root.into(),
            _in_use: None,
        }
    }

    /// `$XDG_CACHE_HOME/soiree-pack/sources`, or `~/.cache/soiree-pack/sources`.
    pub fn default_root() -> Result<PathBuf> {
        // The XDG spec says to ignore a relative XDG_CACHE_HOME.
        let xdg = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute());
        let base = match xdg {
            Some(dir) => dir,
            None => std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
                .ok_or(Error::NoCacheDir)?,
        };
        Ok(base.join("soiree-pack").join("sources"))
    }

    /// The user's cache, its folder made 0700 whatever the umask: what is in it (downloads,
    /// command outputs) is the user's, and nothing under a private folder is reachable by others.
    /// Held shared until the cache (every clone) is dropped; waits while `cache clean` runs.
    pub fn open_default() -> Result<Cache> {
        let root = Cache::default_root()?;
        soiree_fs::create_private_dir(&root).map_err(Error::io(&root))?;
        let path = root.join(IN_USE_LOCK);
        let lock =
            soiree_fs::Lock::acquire_shared(&path, "soiree-pack, reading the source cache", |holder| {
                eprintln!(
                    "Blocking: waiting for {} (held by {holder}): the source cache is being cleaned",
                    path.display()
                );
            })
            .map_err(|e| match e {
                soiree_fs::LockError::Io { path, source } => Error::Io { path, source },
                held => Error::Io {
                    path: path.clone(),
                    source: std::io::Error::other(held.to_string()),
                },
            })?;
        Ok(Cache {
            root,
            _in_use: Some(Arc::new(lock)),
        })
    }

    /// Marks an entry as just used, for `cache clean --keep`'s least-recently-used order; a
    /// failure only makes the entry look older.
    pub(crate) fn touch(path: &Path) {
        if let Ok(f) = std::fs::File::open(path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a download with this digest lives.
    pub fn blob_path(&self, sha256: &Sha256) -> PathBuf {
        self.blob_dir().join(sha256.hex())
    }

    pub fn has_blob(&self, sha256: &Sha256) -> bool {
        self.blob_path(sha256).is_file()
    }

    pub(crate) fn blob_dir(&self) -> PathBuf {
        self.root.join("sha256")
    }

    /// Where the output of a command source with this key lives (`v1`: the key's layout).
    pub fn built_path(&self, key: &Sha256) -> PathBuf {
        self.root.join("built").join("v1").join(key.hex())
    }

    /// Where an archive with this digest, unpacked this way, lives. The `v1` is the extraction
    /// rules' version: a change to what extraction keeps must not reuse trees made under the old.
    pub fn extracted_path(&self, sha256: &Sha256, format: ArchiveFormat, strip: u32) -> PathBuf {
        self.root.join("extracted").join("v1").join(format!(
            "{}-{}-strip{}",
            sha256.hex(),
            format.key(),
            strip
        ))
    }
}
