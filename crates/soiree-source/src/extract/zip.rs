//! Unpacking zip archives (Godot exports, Windows-made releases) through [`Staging`].

use std::io::{BufReader, Read};

use super::staging::{FileData, Staging};
use crate::error::Result;

const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;
const S_IFREG: u32 = 0o100000;

/// Symlink targets longer than Linux's PATH_MAX are not targets.
const MAX_TARGET: u64 = 4096;

pub(crate) fn unpack(file: std::fs::File, staging: &mut Staging<'_>) -> Result<()> {
    let archive_ref = staging.archive().clone();
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| archive_ref.corrupt(e))?;
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|e| archive_ref.corrupt(format_args!("entry {index}: {e}")))?;
        // `name()` decodes CP437 names as well as UTF-8 ones.
        let member = entry.name().to_string();
        let name = member.as_bytes().to_vec();
        let mode = entry.unix_mode();
        let mtime = entry.last_modified().map(dos_to_unix).unwrap_or(0);
        let file_type = mode.map_or(0, |m| m & S_IFMT);
        if entry.is_dir() || file_type == S_IFDIR {
            staging.dir(&member, &name, mtime)?;
        } else if file_type == S_IFLNK {
            let mut target = Vec::new();
            (&mut entry)
                .take(MAX_TARGET + 1)
                .read_to_end(&mut target)
                .map_err(|e| archive_ref.corrupt(format_args!("member {member:?}: {e}")))?;
            if target.len() as u64 > MAX_TARGET {
                return Err(archive_ref.corrupt(format_args!(
                    "member {member:?} is a symlink with a target over {MAX_TARGET} bytes"
                )));
            }
            staging.symlink(&member, &name, &target, mtime)?;
        } else if file_type == 0 || file_type == S_IFREG {
            let size = entry.size();
            let data = FileData {
                reader: &mut entry,
                size,
                executable: mode.is_some_and(|m| m & 0o111 != 0),
            };
            staging.file(&member, &name, data, mtime)?;
        } else {
            return Err(archive_ref.unsupported(&member, format!("file of mode {file_type:o}")));
        }
    }
    Ok(())
}

/// Zip times are local times without a zone; they are taken as UTC, which is stable.
fn dos_to_unix(t: zip::DateTime) -> i64 {
    let days = days_from_civil(i64::from(t.year()), i64::from(t.month()), i64::from(t.day()));
    days * 86_400 + i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_days() {
        assert_eq!(super::days_from_civil(1970, 1, 1), 0);
        assert_eq!(super::days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(super::days_from_civil(2024, 2, 29), 19_782);
    }
}
