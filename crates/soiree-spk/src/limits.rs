//! Sandstorm's limits on packages, and its file-name rule.

/// A single file must be smaller than this (`spk pack` refuses `size >= 1 << 29`).
pub const MAX_FILE_SIZE: u64 = 1 << 29;
/// The decompressed archive message may not exceed this (`APP_SIZE_LIMIT`).
pub const MAX_ARCHIVE_SIZE: u64 = 1 << 30;
/// The manifest message may not exceed this many words (`Manifest.sizeLimitInWords`).
pub const MAX_MANIFEST_WORDS: u64 = 1 << 20;
/// `spk unpack` reads archives with this Cap'n Proto nesting limit.
pub const UNPACK_NESTING_LIMIT: i32 = 128;
/// Directory depth soiree-pack packs, so that `spk unpack`'s nesting limit is never reached:
/// each level costs two nesting steps (the `List(File)` and its struct element), and the root
/// struct and its list two more. 63 is the deepest tree a reader with limit 128 accepts.
pub const MAX_DIR_DEPTH: u32 = 63;
/// Memory one xz decoder may use. liblzma allocates the dictionary a block header declares (up to
/// 1.5 GiB) and touches as much of it as the block decompresses to, so a 150 KB package of zeros
/// whose header claims a 1.5 GiB dictionary took 985 MB to verify. Every xz preset's dictionary
/// (at most 64 MiB, for `xz -9`) fits in this with room to spare; a package needing more is
/// refused, though `xz -dc` would read it.
pub const XZ_MEMLIMIT: u64 = 128 << 20;
/// Size of the buffer file contents are copied through.
pub const COPY_BUFFER: usize = 1 << 20;

/// The longest name a Linux file system takes (`NAME_MAX`): `spk unpack`'s `open` or `mkdir`
/// fails on a longer one.
pub const MAX_NAME_LEN: usize = 255;
/// The longest symlink target `symlink` takes: `PATH_MAX` (4096) with its terminating NUL.
pub const MAX_SYMLINK_TARGET: usize = 4095;

/// Why `symlink` would refuse `target`, if it would: empty, a NUL inside, or too long. Any
/// other text is taken verbatim, absolute or not, as `spk unpack` does.
pub fn symlink_target_problem(target: &[u8]) -> Option<String> {
    if target.is_empty() {
        Some("its target is empty".into())
    } else if target.contains(&0) {
        Some("its target holds a NUL byte".into())
    } else if target.len() > MAX_SYMLINK_TARGET {
        Some(format!(
            "its target is {} bytes; a symlink holds at most {MAX_SYMLINK_TARGET}",
            target.len()
        ))
    } else {
        None
    }
}

/// Sandstorm's rule for a name inside an archive: non-empty, not `.` or `..`, no `/` or NUL.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name != b"." && name != b".." && !name.contains(&b'/') && !name.contains(&0)
}
