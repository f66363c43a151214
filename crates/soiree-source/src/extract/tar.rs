//! Unpacking tar streams (plain, gzip or xz) member by member through [`Staging`].

use std::io::{self, Read};

use tar::EntryType;

use super::staging::{FileData, Staging};
use crate::error::Result;

pub(crate) fn unpack(reader: impl Read, staging: &mut Staging<'_>) -> Result<()> {
    let archive_ref = staging.archive().clone();
    let corrupt = |e: io::Error| archive_ref.corrupt(e);
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let name = entry.path_bytes().into_owned();
        let member = String::from_utf8_lossy(&name).into_owned();
        let header = entry.header();
        let kind = header.entry_type();
        let bad_header = |e: io::Error| archive_ref.corrupt(format_args!("member {member:?}: {e}"));
        let mtime = header.mtime().map_err(bad_header)?;
        let mtime = i64::try_from(mtime).unwrap_or(i64::MAX);
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let executable = header.mode().map_err(bad_header)? & 0o111 != 0;
                let size = entry.size();
                let data = FileData {
                    reader: &mut entry,
                    size,
                    executable,
                };
                staging.file(&member, &name, data, mtime)?;
            }
            EntryType::Directory => staging.dir(&member, &name, mtime)?,
            EntryType::Symlink | EntryType::Link => {
                let Some(target) = entry.link_name_bytes().map(|t| t.into_owned()) else {
                    return Err(
                        archive_ref.corrupt(format_args!("member {member:?} is a link without a target"))
                    );
                };
                if kind == EntryType::Symlink {
                    staging.symlink(&member, &name, &target, mtime)?;
                } else {
                    staging.hardlink(&member, &name, &target)?;
                }
            }
            // Metadata the tar crate folds into the entries it describes.
            EntryType::XGlobalHeader
            | EntryType::XHeader
            | EntryType::GNULongName
            | EntryType::GNULongLink => {}
            EntryType::Char => return Err(archive_ref.unsupported(&member, "character device")),
            EntryType::Block => return Err(archive_ref.unsupported(&member, "block device")),
            EntryType::Fifo => return Err(archive_ref.unsupported(&member, "fifo")),
            other => {
                return Err(archive_ref.unsupported(
                    &member,
                    format!("member of tar type {:?}", other.as_byte() as char),
                ))
            }
        }
    }
    // Reading to the end makes the decompressor check the stream's trailer and checksums, which
    // a truncated or altered download fails.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(corrupt)?;
    Ok(())
}
