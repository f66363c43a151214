//! Unpacking archives safely: into a temporary directory beside the destination, renamed into
//! place only once every member has been written and every link checked.

mod staging;
mod tar;
mod zip;

use std::fs::File;
use std::io::{self, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::source::ArchiveFormat;
use staging::{ArchiveRef, Staging};

/// Unpacks `archive` into `dest`, which must not exist yet. `name` is the source's name, for
/// errors. Nothing appears at `dest` unless the whole archive unpacked safely.
pub fn extract(
    name: &str,
    archive: &Path,
    format: ArchiveFormat,
    strip_components: u32,
    dest: &Path,
) -> Result<()> {
    if dest.symlink_metadata().is_ok() {
        return Err(Error::io(dest)(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the destination of an extraction must not exist",
        )));
    }
    match extract_and_rename(name, archive, format, strip_components, dest)? {
        Placed::Renamed => Ok(()),
        Placed::AlreadyThere => Err(Error::io(dest)(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "appeared while the archive was being unpacked",
        ))),
    }
}

/// Unpacks into `dest` unless it is there already; a concurrent build that got there first wins,
/// as its tree is the same.
pub(crate) fn extract_cached(
    name: &str,
    archive: &Path,
    format: ArchiveFormat,
    strip_components: u32,
    dest: &Path,
) -> Result<()> {
    if dest.is_dir() {
        return Ok(());
    }
    extract_and_rename(name, archive, format, strip_components, dest).map(|_| ())
}

enum Placed {
    Renamed,
    AlreadyThere,
}

fn extract_and_rename(
    name: &str,
    archive: &Path,
    format: ArchiveFormat,
    strip: u32,
    dest: &Path,
) -> Result<Placed> {
    let parent = soiree_fs::parent_dir(dest);
    std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    let temp = tempfile::Builder::new()
        .prefix(".extract-")
        .tempdir_in(parent)
        .map_err(Error::io(parent))?;
    let archive_ref = ArchiveRef {
        name: name.to_string(),
        archive: archive.to_path_buf(),
    };
    let mut staging = Staging::new(temp.path(), &archive_ref, strip);
    let file = File::open(archive).map_err(Error::io(archive))?;
    let reader = BufReader::with_capacity(256 * 1024, file);
    match format {
        ArchiveFormat::Tar => tar::unpack(reader, &mut staging)?,
        ArchiveFormat::TarGz => tar::unpack(flate2::read::MultiGzDecoder::new(reader), &mut staging)?,
        ArchiveFormat::TarXz => tar::unpack(xz2::read::XzDecoder::new_multi_decoder(reader), &mut staging)?,
        ArchiveFormat::Zip => zip::unpack(reader.into_inner(), &mut staging)?,
    }
    staging.finish()?;
    // tempfile makes its directory private; the tree is meant to be read like any other.
    std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o755))
        .map_err(Error::io(temp.path()))?;
    match std::fs::rename(temp.path(), dest) {
        Ok(()) => {
            // The directory now lives under its final name; there is nothing left to delete.
            let _ = temp.keep();
            Ok(Placed::Renamed)
        }
        Err(_) if dest.is_dir() => Ok(Placed::AlreadyThere),
        Err(e) => Err(Error::io(dest)(e)),
    }
}
