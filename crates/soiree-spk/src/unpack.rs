//! Unpacking a verified package into a new directory, like `spk unpack`.
//!
//! Entries are read by the same checked reader `verify` uses (archive_entries.rs), so what
//! `verify` accepts unpacks. Everything is created relative to its directory's descriptor
//! (`mkdirat`, `openat` with `O_CREAT|O_EXCL|O_NOFOLLOW`, `symlinkat`), never through a path: no
//! symlink is followed, nothing is written outside the target, and a deep tree whose full paths
//! exceed `PATH_MAX` unpacks as it does for Sandstorm. The tree is built in a temp directory
//! beside the target and renamed into place, so a failed unpack leaves nothing behind.

use std::ffi::CString;
use std::fs::{self, File};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use soiree_schema::archive_capnp::archive;

use crate::archive_entries::{self, Content, Files};
use crate::error::{Error, Result};
use crate::read::{self, Opened};

/// Verifies `spk` (signature and digest) and unpacks it into `target`, which must not exist.
pub fn unpack(spk: &Path, target: &Path) -> Result<Opened> {
    if target.symlink_metadata().is_ok() {
        return Err(Error::TargetExists(target.to_path_buf()));
    }
    let opened = read::open(spk)?;
    unpack_opened(&opened, target)?;
    Ok(opened)
}

pub fn unpack_opened(opened: &Opened, target: &Path) -> Result<()> {
    if target.symlink_metadata().is_ok() {
        return Err(Error::TargetExists(target.to_path_buf()));
    }
    let parent = crate::write::parent_dir(target);
    fs::create_dir_all(parent).map_err(Error::io(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".soiree-unpack-")
        .tempdir_in(parent)
        .map_err(Error::io(parent))?;
    let msg = opened.archive_message()?;
    let root = msg
        .get_root::<archive::Reader>()
        .map_err(Error::message("Archive"))?;
    let top = open_dir(libc::AT_FDCWD, &c_path(staging.path().as_os_str().as_bytes())?)
        .map_err(Error::io(staging.path()))?;
    let unpacker = Unpacker { opened, target };
    unpacker.dir(&top, root.get_files().map_err(Error::message("Archive"))?, b"")?;
    drop(top);
    let staged = staging.keep();
    if target.symlink_metadata().is_ok() {
        let _ = fs::remove_dir_all(&staged);
        return Err(Error::TargetExists(target.to_path_buf()));
    }
    fs::rename(&staged, target).map_err(|e| {
        let _ = fs::remove_dir_all(&staged);
        Error::io(target)(e)
    })?;
    // The staging directory was created 0700; a package directory is as open as any mkdir.
    let _ = fs::set_permissions(target, std::os::unix::fs::PermissionsExt::from_mode(0o755));
    Ok(())
}

/// A name or target already checked to hold no NUL, as the C string the system calls take.
fn c_path(bytes: &[u8]) -> Result<CString> {
    CString::new(bytes).map_err(|_| Error::MalformedArchive {
        path: String::from_utf8_lossy(bytes).into_owned(),
        reason: "a NUL byte in a name".into(),
    })
}

fn check(ret: libc::c_int) -> std::io::Result<libc::c_int> {
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn open_dir(parent: libc::c_int, name: &CString) -> std::io::Result<OwnedFd> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: `name` is a valid C string; the descriptor returned is ours alone.
    let fd = check(unsafe { libc::openat(parent, name.as_ptr(), flags) })?;
    // SAFETY: `fd` was just opened and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

struct Unpacker<'a> {
    opened: &'a Opened,
    /// The final target, for error messages (entries are made in the staging directory).
    target: &'a Path,
}

impl Unpacker<'_> {
    fn shown(&self, path: &[u8]) -> PathBuf {
        self.target.join(std::ffi::OsStr::from_bytes(path))
    }

    fn dir(&self, dir: &OwnedFd, files: Files<'_>, path: &[u8]) -> Result<()> {
        let fd = dir.as_raw_fd();
        for item in archive_entries::read(files, path)? {
            let name = c_path(item.name)?;
            let io = |e: std::io::Error| Error::Io {
                path: self.shown(&item.path),
                source: e,
            };
            match item.content {
                Content::File { data, executable } => {
                    let mode: libc::c_uint = if executable { 0o777 } else { 0o666 };
                    let flags =
                        libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
                    // SAFETY: `name` is a valid C string; the descriptor returned is ours alone.
                    let raw = check(unsafe { libc::openat(fd, name.as_ptr(), flags, mode) }).map_err(io)?;
                    // SAFETY: `raw` was just opened and is owned by nothing else.
                    let mut file = unsafe { File::from_raw_fd(raw) };
                    self.opened.copy_to(data, &mut file).map_err(io)?;
                }
                Content::Symlink(target) => {
                    let target = c_path(target)?;
                    // SAFETY: both are valid C strings.
                    check(unsafe { libc::symlinkat(target.as_ptr(), fd, name.as_ptr()) }).map_err(io)?;
                }
                Content::Dir(files) => {
                    // SAFETY: `name` is a valid C string.
                    check(unsafe { libc::mkdirat(fd, name.as_ptr(), 0o777) }).map_err(io)?;
                    let sub = open_dir(fd, &name).map_err(io)?;
                    self.dir(&sub, files, &item.path)?;
                }
            }
            // Both times, as `spk unpack` sets them; negative times are normalised the same way
            // (seconds floor, positive nanoseconds).
            let t = libc::timespec {
                tv_sec: item.mtime_ns.div_euclid(1_000_000_000) as libc::time_t,
                tv_nsec: item.mtime_ns.rem_euclid(1_000_000_000) as libc::c_long,
            };
            let times = [t, t];
            // SAFETY: `name` is a valid C string and `times` two valid timespecs.
            check(unsafe { libc::utimensat(fd, name.as_ptr(), times.as_ptr(), libc::AT_SYMLINK_NOFOLLOW) })
                .map_err(io)?;
        }
        Ok(())
    }
}
