//! A command source's inputs: the files of its directory (less `exclude`), listed with their
//! modes and digests for the cache key, and copied into the scratch folder the command runs in.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use sha2::{Digest as _, Sha256 as Hasher};

use crate::digest::Sha256;
use crate::error::{walk_error, Error, Result};

#[derive(Debug)]
enum Kind {
    Dir,
    File(Sha256),
    Symlink(PathBuf),
}

#[derive(Debug)]
struct Input {
    rel: PathBuf,
    mode: u32,
    kind: Kind,
}

/// Every input of a command source, in path order.
#[derive(Debug)]
pub(crate) struct Inputs {
    root: PathBuf,
    list: Vec<Input>,
}

fn globs(name: &str, patterns: &[String]) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p.trim_end_matches('/')).map_err(|e| Error::BadGlob {
            pattern: p.clone(),
            reason: format!("{e} (source {name:?}, exclude)"),
        })?;
        set.add(glob);
    }
    set.build().map_err(|e| Error::BadGlob {
        pattern: patterns.join(", "),
        reason: e.to_string(),
    })
}

impl Inputs {
    /// Lists `root`; a socket, fifo or device among the inputs is refused.
    pub(crate) fn list(name: &str, root: &Path, exclude: &[String]) -> Result<Inputs> {
        let meta = std::fs::metadata(root).map_err(|e| crate::fetch::missing_or_io(name, root, e))?;
        if !meta.is_dir() {
            return Err(Error::CommandInput {
                name: name.to_string(),
                reason: format!("{} is not a directory", root.display()),
            });
        }
        let skip = globs(name, exclude)?;
        let mut list = Vec::new();
        let mut walk = walkdir::WalkDir::new(root)
            .min_depth(1)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = walk.next() {
            let entry = entry.map_err(|e| walk_error(root, e))?;
            let rel = entry
                .path()
                .strip_prefix(root)
                .unwrap_or(entry.path())
                .to_path_buf();
            if skip.is_match(&rel) {
                if entry.file_type().is_dir() {
                    walk.skip_current_dir();
                }
                continue;
            }
            let meta = entry.path().symlink_metadata().map_err(Error::io(entry.path()))?;
            let ft = meta.file_type();
            let kind = if ft.is_dir() {
                Kind::Dir
            } else if ft.is_symlink() {
                Kind::Symlink(std::fs::read_link(entry.path()).map_err(Error::io(entry.path()))?)
            } else if ft.is_file() {
                Kind::File(Sha256::of_file(entry.path())?)
            } else {
                return Err(Error::UnsupportedFileType {
                    path: entry.path().to_path_buf(),
                    kind: super::output::special_kind(ft),
                });
            };
            list.push(Input {
                rel,
                mode: meta.permissions().mode() & 0o7777,
                kind,
            });
        }
        Ok(Inputs {
            root: root.to_path_buf(),
            list,
        })
    }

    /// Feeds every input (path, kind, mode, content) into `h`; names are length-prefixed so
    /// that no two lists hash alike.
    pub(crate) fn hash_into(&self, h: &mut Hasher) {
        use std::os::unix::ffi::OsStrExt;
        h.update((self.list.len() as u64).to_le_bytes());
        for i in &self.list {
            field(h, i.rel.as_os_str().as_bytes());
            h.update(i.mode.to_le_bytes());
            match &i.kind {
                Kind::Dir => field(h, b"dir"),
                Kind::File(d) => {
                    field(h, b"file");
                    h.update(d.0);
                }
                Kind::Symlink(t) => {
                    field(h, b"symlink");
                    field(h, t.as_os_str().as_bytes());
                }
            }
        }
    }

    /// Copies the inputs into the empty directory `to`, with their modes.
    pub(crate) fn copy_to(&self, to: &Path) -> Result<()> {
        for i in &self.list {
            let from = self.root.join(&i.rel);
            let dest = to.join(&i.rel);
            match &i.kind {
                Kind::Dir => std::fs::create_dir(&dest).map_err(Error::io(&dest))?,
                Kind::Symlink(t) => std::os::unix::fs::symlink(t, &dest).map_err(Error::io(&dest))?,
                Kind::File(_) => {
                    std::fs::copy(&from, &dest).map_err(Error::io(&dest))?;
                }
            }
            if !matches!(i.kind, Kind::Symlink(_)) {
                // Directories too: a read-only input directory would stop the command writing
                // into its own copy, so the owner may always write.
                let mode = if matches!(i.kind, Kind::Dir) {
                    i.mode | 0o700
                } else {
                    i.mode | 0o200
                };
                std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode))
                    .map_err(Error::io(&dest))?;
            }
        }
        Ok(())
    }
}

/// A length-prefixed field.
pub(crate) fn field(h: &mut Hasher, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}
