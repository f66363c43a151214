//! The directory an archive is unpacked into, and the rules every member is written under:
//! names are cleaned first, no member is written through a symlink (every parent is looked at
//! with `lstat`, so a symlink an earlier member made is never followed), links may not point
//! outside, and modes are reduced to "executable or not".

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::confine::{self, Confined};
use crate::error::{Error, Result};

/// Which archive is being unpacked, for errors.
#[derive(Debug, Clone)]
pub(crate) struct ArchiveRef {
    pub name: String,
    pub archive: PathBuf,
}

impl ArchiveRef {
    pub fn unsafe_member(&self, member: &str, reason: impl Into<String>) -> Error {
        Error::UnsafeMember {
            name: self.name.clone(),
            archive: self.archive.clone(),
            member: member.to_string(),
            reason: reason.into(),
        }
    }

    pub fn corrupt(&self, reason: impl std::fmt::Display) -> Error {
        Error::CorruptArchive {
            name: self.name.clone(),
            archive: self.archive.clone(),
            reason: reason.to_string(),
        }
    }

    pub fn unsupported(&self, member: &str, kind: impl Into<String>) -> Error {
        Error::UnsupportedMember {
            name: self.name.clone(),
            archive: self.archive.clone(),
            member: member.to_string(),
            kind: kind.into(),
        }
    }
}

/// One member's data and the facts the writer needs about it.
pub(crate) struct FileData<'r> {
    pub reader: &'r mut dyn Read,
    pub size: u64,
    pub executable: bool,
}

pub(crate) struct Staging<'a> {
    root: &'a Path,
    archive: &'a ArchiveRef,
    strip: u32,
    /// Directories and the mtimes to give them once nothing more is written inside.
    dir_mtimes: Vec<(PathBuf, Option<i64>)>,
    newest: i64,
}

impl<'a> Staging<'a> {
    pub fn new(root: &'a Path, archive: &'a ArchiveRef, strip: u32) -> Staging<'a> {
        Staging {
            root,
            archive,
            strip,
            dir_mtimes: Vec::new(),
            newest: 0,
        }
    }

    pub fn archive(&self) -> &ArchiveRef {
        self.archive
    }

    /// The member's path inside the root, or `None` when stripping leaves nothing of it.
    fn place(&self, member: &str, name: &[u8]) -> Result<Option<PathBuf>> {
        if name.first() == Some(&b'/') {
            return Err(self.archive.unsafe_member(member, "has an absolute path"));
        }
        let parts = confine::clean_relative(name)
            .ok_or_else(|| self.archive.unsafe_member(member, "has a `..` component"))?;
        Ok(strip(parts, self.strip))
    }

    pub fn file(&mut self, member: &str, name: &[u8], data: FileData<'_>, mtime: i64) -> Result<()> {
        let Some(rel) = self.place(member, name)? else {
            return Ok(());
        };
        let path = self.prepare(member, &rel)?;
        let mode = if data.executable { 0o755 } else { 0o644 };
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .map_err(Error::io(&path))?;
        let written = copy(data.reader, &mut out).map_err(|e| match e {
            Side::Read(e) => self
                .archive
                .corrupt(format_args!("reading member {member:?}: {e}")),
            Side::Write(e) => Error::io(&path)(e),
        })?;
        if written != data.size {
            return Err(self.archive.corrupt(format_args!(
                "member {member:?} should hold {} bytes but the archive ends after {written}",
                data.size
            )));
        }
        // The umask may have taken bits off at creation; the mode is the archive's, exactly.
        out.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(Error::io(&path))?;
        drop(out);
        self.set_mtime(&path, mtime, false)
    }

    pub fn dir(&mut self, member: &str, name: &[u8], mtime: i64) -> Result<()> {
        let Some(rel) = self.place(member, name)? else {
            return Ok(());
        };
        if rel.as_os_str().is_empty() {
            return Ok(());
        }
        self.parents(member, &rel)?;
        let path = self.root.join(&rel);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                fs::remove_file(&path).map_err(Error::io(&path))?;
                create_dir(&path)?;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => create_dir(&path)?,
            Err(e) => return Err(Error::io(&path)(e)),
        }
        self.newest = self.newest.max(mtime);
        self.dir_mtimes.push((rel, Some(mtime)));
        Ok(())
    }

    pub fn symlink(&mut self, member: &str, name: &[u8], target: &[u8], mtime: i64) -> Result<()> {
        let Some(rel) = self.place(member, name)? else {
            return Ok(());
        };
        if target.is_empty() {
            return Err(self
                .archive
                .unsafe_member(member, "is a symlink with an empty target"));
        }
        let target = Path::new(OsStr::from_bytes(target));
        self.check_link(member, &rel, target)?;
        let path = self.prepare(member, &rel)?;
        std::os::unix::fs::symlink(target, &path).map_err(Error::io(&path))?;
        self.set_mtime(&path, mtime, true)
    }

    pub fn hardlink(&mut self, member: &str, name: &[u8], target: &[u8]) -> Result<()> {
        let Some(rel) = self.place(member, name)? else {
            return Ok(());
        };
        let shown = String::from_utf8_lossy(target);
        if target.first() == Some(&b'/') {
            return Err(self
                .archive
                .unsafe_member(member, format!("is a hard link to the absolute path {shown}")));
        }
        let parts = confine::clean_relative(target).ok_or_else(|| {
            self.archive
                .unsafe_member(member, format!("is a hard link to {shown}, outside the archive"))
        })?;
        let Some(target_rel) = strip(parts, self.strip) else {
            return Err(self.archive.unsafe_member(
                member,
                format!("is a hard link to {shown}, which strip-components removes"),
            ));
        };
        // link(2) follows symlinks in the target's parents, so every one must be a real directory.
        if !self.is_plain_file(&target_rel)? {
            return Err(self.archive.unsafe_member(
                member,
                format!("is a hard link to {shown}, which is not a file unpacked before it"),
            ));
        }
        let from = self.root.join(&target_rel);
        let path = self.prepare(member, &rel)?;
        if fs::hard_link(&from, &path).is_err() {
            // Some file systems refuse hard links; a copy holds the same bytes.
            fs::copy(&from, &path).map_err(Error::io(&path))?;
        }
        Ok(())
    }

    /// Checks every symlink again now that the tree is complete: a link that was safe when it was
    /// written may lead outside through links unpacked after it. Then sets directory mtimes.
    pub fn finish(mut self) -> Result<()> {
        let walk = walkdir::WalkDir::new(self.root).follow_links(false).min_depth(1);
        for item in walk {
            let item = item.map_err(|e| crate::error::walk_error(self.root, e))?;
            let rel = item.path().strip_prefix(self.root).unwrap_or(item.path());
            if item.file_type().is_symlink() {
                let target = fs::read_link(item.path()).map_err(Error::io(item.path()))?;
                self.check_link(&rel.to_string_lossy(), rel, &target)?;
            } else if item.file_type().is_dir() {
                self.dir_mtimes.push((rel.to_path_buf(), None));
            }
        }
        // Directories nobody gave a time get the newest time in the archive, which is stable
        // from one unpacking to the next (unlike the time of unpacking).
        let newest = self.newest;
        let mut seen = std::collections::BTreeMap::new();
        for (rel, mtime) in std::mem::take(&mut self.dir_mtimes) {
            let slot = seen.entry(rel).or_insert(None);
            if mtime.is_some() {
                *slot = mtime;
            }
        }
        set_dir_mtime(self.root, newest)?;
        for (rel, mtime) in seen {
            set_dir_mtime(&self.root.join(rel), mtime.unwrap_or(newest))?;
        }
        Ok(())
    }

    fn check_link(&self, member: &str, rel: &Path, target: &Path) -> Result<()> {
        let parent = rel.parent().unwrap_or(Path::new(""));
        match confine::resolve(self.root, parent, target, true) {
            Ok(Confined::Inside(_)) => Ok(()),
            Ok(Confined::Escapes(why)) => Err(self.archive.unsafe_member(
                member,
                format!(
                    "is a symlink to {} that resolves outside the archive: {why}",
                    target.display()
                ),
            )),
            Err(e) => Err(Error::io(self.root.join(rel))(e)),
        }
    }

    /// Whether `rel` is a regular file reached through real directories only.
    fn is_plain_file(&self, rel: &Path) -> Result<bool> {
        let mut at = self.root.to_path_buf();
        let parts: Vec<_> = rel.iter().collect();
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            let meta = match fs::symlink_metadata(&at) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(Error::io(&at)(e)),
            };
            let last = i + 1 == parts.len();
            if (last && !meta.is_file()) || (!last && !meta.is_dir()) {
                return Ok(false);
            }
        }
        Ok(!parts.is_empty())
    }

    /// Makes the parents of `rel` and clears its own place; returns the path to create.
    fn prepare(&mut self, member: &str, rel: &Path) -> Result<PathBuf> {
        if rel.as_os_str().is_empty() {
            return Err(self
                .archive
                .unsafe_member(member, "names the top directory itself, but is not a directory"));
        }
        self.parents(member, rel)?;
        let path = self.root.join(rel);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => Err(self
                .archive
                .unsafe_member(member, "would replace a directory unpacked before it")),
            // A later member of the same name wins, as with `tar -x`; unlinking a symlink
            // removes the link, never what it points to.
            Ok(_) => fs::remove_file(&path)
                .map(|()| path.clone())
                .map_err(Error::io(&path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(path),
            Err(e) => Err(Error::io(&path)(e)),
        }
    }

    /// Creates the missing parents of `rel`, refusing to pass through anything but directories.
    fn parents(&mut self, member: &str, rel: &Path) -> Result<()> {
        let mut at = self.root.to_path_buf();
        let mut so_far = PathBuf::new();
        let parts: Vec<_> = rel.iter().collect();
        for part in parts.iter().take(parts.len().saturating_sub(1)) {
            at.push(part);
            so_far.push(part);
            match fs::symlink_metadata(&at) {
                Ok(meta) if meta.is_dir() => {}
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(self.archive.unsafe_member(
                        member,
                        format!(
                            "would be written through {}, a symlink unpacked before it",
                            so_far.display()
                        ),
                    ))
                }
                Ok(_) => {
                    return Err(self.archive.unsafe_member(
                        member,
                        format!("would be written inside {}, which is a file", so_far.display()),
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => create_dir(&at)?,
                Err(e) => return Err(Error::io(&at)(e)),
            }
        }
        Ok(())
    }

    fn set_mtime(&mut self, path: &Path, mtime: i64, symlink: bool) -> Result<()> {
        self.newest = self.newest.max(mtime);
        let time = filetime::FileTime::from_unix_time(mtime, 0);
        let result = if symlink {
            filetime::set_symlink_file_times(path, time, time)
        } else {
            filetime::set_file_mtime(path, time)
        };
        result.map_err(Error::io(path))
    }
}

/// Drops `n` leading components; `None` when that leaves nothing, as `tar --strip-components`
/// skips such members. With `n == 0` an empty path (the archive's `./`) is kept as the root.
fn strip(parts: Vec<OsString>, n: u32) -> Option<PathBuf> {
    let n = n as usize;
    if n == 0 {
        return Some(parts.iter().collect());
    }
    if parts.len() <= n {
        return None;
    }
    Some(parts[n..].iter().collect())
}

fn create_dir(path: &Path) -> Result<()> {
    fs::create_dir(path).map_err(Error::io(path))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(Error::io(path))
}

fn set_dir_mtime(path: &Path, mtime: i64) -> Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => {
            let time = filetime::FileTime::from_unix_time(mtime, 0);
            filetime::set_file_mtime(path, time).map_err(Error::io(path))
        }
        Ok(_) => Ok(()),
        Err(e) => Err(Error::io(path)(e)),
    }
}

enum Side {
    Read(io::Error),
    Write(io::Error),
}

fn copy(from: &mut dyn Read, to: &mut impl Write) -> Result<u64, Side> {
    let mut buf = vec![0u8; 128 * 1024];
    let mut total = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Side::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(Side::Write)?;
        total += n as u64;
    }
}
