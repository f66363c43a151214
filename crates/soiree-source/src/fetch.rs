//! Turning a [`Source`] into a file or directory on disk: local paths as they are, URLs through
//! the cache (or the network), archives unpacked once per digest, then the sub-path applied.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::cache::Cache;
use crate::command;
use crate::confine::{self, Confined};
use crate::digest::Sha256;
use crate::download;
use crate::error::{Error, Result};
use crate::extract;
use crate::lock::{Lock, LockEntry};
use crate::source::{ArchiveFormat, Location, Source, UrlPin};

/// A source made real: `root` is the file or directory it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub name: String,
    /// The file or directory, after unpacking and the sub-path.
    pub root: PathBuf,
    pub is_dir: bool,
    /// Where `root` is inside the source (the cleaned sub-path; empty for the whole source), so
    /// origins name paths as the source has them.
    pub inner: PathBuf,
    /// The name a single file goes by when it is mapped into a directory: the URL's or the
    /// path's last component (a cached download is named by its digest).
    pub file_name: Option<OsString>,
    /// For URL sources: what `party.lock` records.
    pub locked: Option<LockEntry>,
}

impl Resolved {
    /// A local file or directory used as it is, for callers (and tests) without a [`Source`].
    pub fn local(name: impl Into<String>, path: impl Into<PathBuf>) -> Result<Resolved> {
        let name = name.into();
        let path = path.into();
        let meta = std::fs::metadata(&path).map_err(|e| missing_or_io(&name, &path, e))?;
        Ok(Resolved {
            file_name: path.file_name().map(OsString::from),
            name,
            is_dir: meta.is_dir(),
            root: path,
            inner: PathBuf::new(),
            locked: None,
        })
    }
}

/// Resolves sources against a cache, online or not, checking URL pins against a lock.
#[derive(Debug)]
pub struct Fetcher {
    cache: Cache,
    offline: bool,
    base_dir: PathBuf,
    lock: Option<Lock>,
    agent: OnceLock<ureq::Agent>,
    rebuild: BTreeSet<String>,
}

impl Fetcher {
    pub fn new(cache: Cache) -> Fetcher {
        Fetcher {
            cache,
            offline: false,
            base_dir: PathBuf::new(),
            lock: None,
            agent: OnceLock::new(),
            rebuild: BTreeSet::new(),
        }
    }

    /// Offline: URL sources come from the cache only, and a missing one is an error saying how to
    /// fetch it.
    pub fn offline(mut self, offline: bool) -> Fetcher {
        self.offline = offline;
        self
    }

    /// The directory relative local paths are taken from (the one `party.toml` is in).
    pub fn base_dir(mut self, dir: impl Into<PathBuf>) -> Fetcher {
        self.base_dir = dir.into();
        self
    }

    /// URL sources must then have the digest `lock` records for them, if it has them.
    pub fn with_lock(mut self, lock: &Lock) -> Fetcher {
        self.lock = Some(lock.clone());
        self
    }

    /// Command sources to build again even when the cache has their output (`--rebuild`).
    pub fn rebuild(mut self, names: impl IntoIterator<Item = String>) -> Fetcher {
        self.rebuild.extend(names);
        self
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Makes sure a URL source's file is in the cache, downloading it unless offline; returns
    /// its path there. This is what `soiree-pack lock` does for every URL source.
    pub fn fetch(&self, name: &str, pin: &UrlPin) -> Result<PathBuf> {
        let path = self.cache.blob_path(&pin.sha256);
        if path.is_file() {
            Cache::touch(&path);
            return Ok(path);
        }
        self.download(name, &pin.url, Some(pin.sha256), pin.size)
            .map(|(path, _)| path)
    }

    /// Downloads a URL nobody has pinned yet (trust on first use): the file goes into the cache
    /// under its digest, which is returned for `party.lock`. `size`, when given, is checked.
    pub fn fetch_unpinned(&self, name: &str, url: &str, size: Option<u64>) -> Result<(PathBuf, Sha256)> {
        self.download(name, url, None, size)
    }

    /// Downloads `url` into the cache unless offline, checking `expected` and `size` if given.
    fn download(
        &self,
        name: &str,
        url: &str,
        expected: Option<Sha256>,
        size: Option<u64>,
    ) -> Result<(PathBuf, Sha256)> {
        if self.offline {
            return Err(Error::Offline {
                name: name.to_string(),
                url: url.to_string(),
            });
        }
        let agent = self.agent.get_or_init(download::agent);
        download::download_to_cache(agent, name, url, expected, size, &self.cache.blob_dir())
    }

    /// The file or directory `source` stands for, fetched and unpacked as needed.
    pub fn resolve(&self, source: &Source) -> Result<Resolved> {
        let name = source.name.as_str();
        if source.archive.is_none() && source.strip_components > 0 {
            return Err(Error::NotAnArchive {
                name: name.to_string(),
                location: source.location.to_string(),
                what: "strip-components",
            });
        }
        if let Some(lock) = &self.lock {
            lock.check(source)?;
        }
        let (root, file_name, locked) = match &source.location {
            Location::Path(path) => {
                let full = self.base_dir.join(path);
                let meta = std::fs::metadata(&full).map_err(|e| missing_or_io(name, &full, e))?;
                let root = match source.archive {
                    Some(format) if meta.is_file() => {
                        let digest = Sha256::of_file(&full)?;
                        self.unpack(name, &full, &digest, format, source.strip_components)?
                    }
                    Some(_) => {
                        return Err(Error::NotAnArchive {
                            name: name.to_string(),
                            location: full.display().to_string(),
                            what: "unpacking",
                        })
                    }
                    None => full.clone(),
                };
                (root, full.file_name().map(OsString::from), None)
            }
            Location::Command(spec) => {
                let rebuild = self.rebuild.contains(name);
                let root = command::build(&self.cache, name, spec, self.offline, rebuild)?;
                (root, None, None)
            }
            Location::Url(pin) => {
                let root = match source.archive {
                    Some(format) => self.unpack_url(name, pin, format, source.strip_components)?,
                    None => self.fetch(name, pin)?,
                };
                let locked = LockEntry {
                    name: name.to_string(),
                    url: pin.url.clone(),
                    sha256: pin.sha256,
                    size: pin.size,
                };
                (root, url_file_name(&pin.url), Some(locked))
            }
        };
        let (root, inner) = match &source.sub_path {
            Some(sub) => sub_path(name, &root, sub)?,
            None => (root, PathBuf::new()),
        };
        let meta = std::fs::metadata(&root).map_err(Error::io(&root))?;
        let file_name = if inner.as_os_str().is_empty() {
            file_name
        } else {
            inner.file_name().map(OsString::from)
        };
        Ok(Resolved {
            name: name.to_string(),
            root,
            is_dir: meta.is_dir(),
            inner,
            file_name,
            locked,
        })
    }

    /// An unpacked URL archive; once unpacked, its download is not needed again (not even
    /// offline).
    fn unpack_url(&self, name: &str, pin: &UrlPin, format: ArchiveFormat, strip: u32) -> Result<PathBuf> {
        let dest = self.cache.extracted_path(&pin.sha256, format, strip);
        if dest.is_dir() {
            Cache::touch(&dest);
            return Ok(dest);
        }
        let blob = self.fetch(name, pin)?;
        // The download was checked when it was stored; checking again before unpacking costs
        // little next to unpacking, and catches a cache damaged since.
        let digest = Sha256::of_file(&blob)?;
        if digest != pin.sha256 {
            std::fs::remove_file(&blob).map_err(Error::io(&blob))?;
            self.fetch(name, pin)?;
        }
        self.unpack(name, &blob, &pin.sha256, format, strip)
    }

    fn unpack(
        &self,
        name: &str,
        archive: &Path,
        digest: &Sha256,
        format: ArchiveFormat,
        strip: u32,
    ) -> Result<PathBuf> {
        let dest = self.cache.extracted_path(digest, format, strip);
        if dest.is_dir() {
            Cache::touch(&dest);
        }
        extract::extract_cached(name, archive, format, strip, &dest)?;
        Ok(dest)
    }
}

/// Applies a sub-path inside `root`, following symlinks only as long as they stay inside it.
fn sub_path(name: &str, root: &Path, sub: &str) -> Result<(PathBuf, PathBuf)> {
    let fail = |reason: String| Error::SubPath {
        name: name.to_string(),
        sub_path: sub.to_string(),
        reason,
    };
    let parts = confine::clean_relative(sub.as_bytes())
        .ok_or_else(|| fail("must be a relative path without `..`".into()))?;
    let cleaned: PathBuf = parts.iter().collect();
    if !root.is_dir() {
        return Err(fail(format!("cannot be applied: {} is a file", root.display())));
    }
    let real = match confine::resolve(root, Path::new(""), &cleaned, true) {
        Ok(Confined::Inside(real)) => real,
        Ok(Confined::Escapes(why)) => return Err(fail(format!("leaves the source: {why}"))),
        Err(e) => return Err(Error::io(root.join(&cleaned))(e)),
    };
    let full = root.join(&real);
    if std::fs::symlink_metadata(&full).is_err() {
        return Err(fail(format!("does not exist in {}", root.display())));
    }
    Ok((full, cleaned))
}

/// The last segment of a URL's path, without query or fragment.
fn url_file_name(url: &str) -> Option<OsString> {
    let path = url.split(['?', '#']).next()?;
    let after_scheme = path.split_once("://").map_or(path, |(_, rest)| rest);
    let (_, path) = after_scheme.split_once('/')?;
    path.rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .map(OsString::from)
}

pub(crate) fn missing_or_io(name: &str, path: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::LocalMissing {
            name: name.to_string(),
            path: path.to_path_buf(),
        }
    } else {
        Error::io(path)(e)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_of_urls() {
        let name = |u: &str| super::url_file_name(u).map(|s| s.to_string_lossy().into_owned());
        assert_eq!(
            name("https://h.org/a/b/cockroach?x=1").as_deref(),
            Some("cockroach")
        );
        assert_eq!(name("https://h.org/a/b/#frag"), None);
        assert_eq!(name("https://h.org"), None);
        assert_eq!(name("http://127.0.0.1:8/c.tgz").as_deref(), Some("c.tgz"));
    }
}
