//! One directory of an archive as both `verify` and `unpack` read it, with every rule an entry
//! must pass to be unpacked: Sandstorm's name rule, unique names, a known kind, well-formed
//! pointers, and what the kernel's `mkdir`/`open`/`symlink` refuse (a name longer than 255 bytes,
//! a symlink target that is empty, holds a NUL or is longer than 4095 bytes). `spk unpack` fails
//! on each of these, so `verify` refuses them too: one reader, so the two can never disagree.

use std::collections::HashSet;

use soiree_schema::archive_capnp::archive;

use crate::error::{Error, Result};
use crate::limits;
use crate::tree::{display, join};

/// A directory's list of entries in the archive message.
pub(crate) type Files<'a> = capnp::struct_list::Reader<'a, archive::file::Owned>;

/// What an entry is, with its contents' bytes (in the archive) checked.
pub(crate) enum Content<'a> {
    File { data: &'a [u8], executable: bool },
    Symlink(&'a [u8]),
    Dir(Files<'a>),
}

/// One checked entry: its name, its path from the archive's root, and what it is.
pub(crate) struct Item<'a> {
    pub name: &'a [u8],
    pub path: Vec<u8>,
    pub content: Content<'a>,
    pub mtime_ns: i64,
}

pub(crate) fn malformed(path: &[u8]) -> impl Fn(capnp::Error) -> Error + '_ {
    move |e| {
        if e.to_string().contains("nesting limit") {
            Error::TooDeep(limits::UNPACK_NESTING_LIMIT as u32)
        } else {
            Error::MalformedArchive {
                path: display(path),
                reason: e.to_string(),
            }
        }
    }
}

/// Sandstorm's name rule, and no longer than a file system takes; `dir` is where it is.
pub(crate) fn check_name(dir: &[u8], name: &[u8]) -> Result<()> {
    if !limits::valid_name(name) {
        return Err(Error::InvalidFileName {
            dir: display(dir),
            name: display(name),
        });
    }
    if name.len() > limits::MAX_NAME_LEN {
        return Err(Error::NameTooLong {
            dir: display(dir),
            start: display(&name[..40]),
            len: name.len(),
        });
    }
    Ok(())
}

/// A target `symlink` takes, for the symlink at `path`.
pub(crate) fn check_symlink(path: &[u8], target: &[u8]) -> Result<()> {
    match limits::symlink_target_problem(target) {
        Some(reason) => Err(Error::InvalidSymlink {
            path: display(path),
            reason,
        }),
        None => Ok(()),
    }
}

/// The entries of one directory (`path` from the root), each checked; the first problem found
/// is the error.
pub(crate) fn read<'a>(files: Files<'a>, path: &[u8]) -> Result<Vec<Item<'a>>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(files.len() as usize);
    for f in files.iter() {
        let name = f.get_name().map_err(malformed(path))?.as_bytes();
        check_name(path, name)?;
        if !seen.insert(name) {
            return Err(Error::DuplicateFileName(display(&join(path, name))));
        }
        let here = join(path, name);
        let content = match f.which().map_err(|_| Error::MalformedArchive {
            path: display(&here),
            reason: "unknown file type in archive".into(),
        })? {
            archive::file::Regular(d) => Content::File {
                data: d.map_err(malformed(&here))?,
                executable: false,
            },
            archive::file::Executable(d) => Content::File {
                data: d.map_err(malformed(&here))?,
                executable: true,
            },
            archive::file::Symlink(t) => {
                let target = t.map_err(malformed(&here))?.as_bytes();
                check_symlink(&here, target)?;
                Content::Symlink(target)
            }
            archive::file::Directory(d) => Content::Dir(d.map_err(malformed(&here))?),
        };
        out.push(Item {
            name,
            path: here,
            content,
            mtime_ns: f.get_last_modification_time_ns(),
        });
    }
    Ok(out)
}
