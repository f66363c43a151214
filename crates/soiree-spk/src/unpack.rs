//! Unpacking a verified package into a new directory, like `spk unpack`.
//!
//! Names are checked before use (no `/`, `.`, `..` or NUL), every file is created with
//! `O_CREAT|O_EXCL` and symlinks are created but never followed, so nothing is written outside
//! the target. The tree is built in a temp directory beside the target and renamed into place,
//! so a failed unpack leaves nothing behind.

use std::fs::{self, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use filetime::FileTime;
use soiree_schema::archive_capnp::archive;

use crate::error::{Error, Result};
use crate::read::{self, check_names, malformed, Opened};
use crate::tree::join;

fn mtime(ns: i64) -> FileTime {
    // Negative times are normalised the way `spk unpack` does (seconds floor, positive nanos).
    FileTime::from_unix_time(ns.div_euclid(1_000_000_000), ns.rem_euclid(1_000_000_000) as u32)
}

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
    write_dir(
        opened,
        root.get_files().map_err(Error::message("Archive"))?,
        staging.path(),
        b"",
    )?;
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

fn write_dir(
    opened: &Opened,
    files: capnp::struct_list::Reader<archive::file::Owned>,
    dir: &Path,
    path: &[u8],
) -> Result<()> {
    for (name, f) in check_names(files, path)? {
        let here = join(path, name);
        let dest = dir.join(std::ffi::OsStr::from_bytes(name));
        let which = f.which().map_err(|_| Error::MalformedArchive {
            path: String::from_utf8_lossy(&here).into_owned(),
            reason: "unknown file type in archive".into(),
        })?;
        match which {
            archive::file::Regular(d) => write_file(opened, &dest, d.map_err(malformed(&here))?, 0o666)?,
            archive::file::Executable(d) => write_file(opened, &dest, d.map_err(malformed(&here))?, 0o777)?,
            archive::file::Symlink(t) => {
                let target = t.map_err(malformed(&here))?.as_bytes();
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), &dest)
                    .map_err(Error::io(&dest))?;
            }
            archive::file::Directory(d) => {
                fs::create_dir(&dest).map_err(Error::io(&dest))?;
                write_dir(opened, d.map_err(malformed(&here))?, &dest, &here)?;
            }
        }
        let t = mtime(f.get_last_modification_time_ns());
        filetime::set_symlink_file_times(&dest, t, t).map_err(Error::io(&dest))?;
    }
    Ok(())
}

fn write_file(opened: &Opened, dest: &Path, data: &[u8], mode: u32) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dest)
        .map_err(Error::io(dest))?;
    opened.copy_to(data, &mut file).map_err(Error::io(dest))
}
