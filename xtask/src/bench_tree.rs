//! The input of `cargo xtask bench pack`: an app tree of real shared libraries copied from the
//! machine (regular `*.so*` files, in sorted path order), plus a minimal `sandstorm-manifest`.
//!
//! Each file is taken once (Debian hard-links one 26 MB Mesa driver under 13 names) and files over
//! [`MAX_LIB_BYTES`] are left out (libLLVM is over 100 MB), so trees of different sizes hold the
//! same mix of libraries and a smaller tree is nearly a prefix of a larger one.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The largest library copied into a tree.
pub const MAX_LIB_BYTES: u64 = 16 << 20;

use crate::sample_app;

/// Regular files under `source` whose name contains `.so`, sorted by path, with their sizes:
/// each inode once, none over [`MAX_LIB_BYTES`].
pub fn shared_libraries(source: &Path) -> Result<Vec<(PathBuf, u64)>, String> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let walk = walkdir::WalkDir::new(source)
        .follow_links(false)
        .sort_by_file_name();
    for item in walk {
        // Unreadable corners of /usr/lib are skipped, not fatal.
        let Ok(item) = item else { continue };
        if !item.file_type().is_file() || !item.file_name().to_string_lossy().contains(".so") {
            continue;
        }
        let Ok(meta) = item.metadata() else { continue };
        if meta.len() > MAX_LIB_BYTES || !seen.insert((meta.dev(), meta.ino())) {
            continue;
        }
        let rel = item.path().strip_prefix(source).unwrap_or(item.path());
        found.push((rel.to_path_buf(), meta.len()));
    }
    if found.is_empty() {
        return Err(format!("no *.so* files under {}", source.display()));
    }
    Ok(found)
}

/// What was copied.
#[derive(Debug, Clone, Copy, Default)]
pub struct TreeInfo {
    pub files: u64,
    pub bytes: u64,
}

/// Copies libraries into `dest/lib` until about `target` bytes (within 2%): files that would
/// overshoot are skipped; when the list runs out, it is copied again under `dest/lib-copyN`.
pub fn build(source: &Path, libs: &[(PathBuf, u64)], dest: &Path, target: u64) -> Result<TreeInfo, String> {
    let low = target - target / 50;
    let high = target + target / 50;
    let mut info = TreeInfo::default();
    for round in 0.. {
        let before = info.bytes;
        let dir = if round == 0 {
            dest.join("lib")
        } else {
            dest.join(format!("lib-copy{round}"))
        };
        for (rel, size) in libs {
            if info.bytes >= low {
                break;
            }
            if info.bytes + size > high {
                continue;
            }
            let to = dir.join(rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            let from = source.join(rel);
            let copied = std::fs::copy(&from, &to).map_err(|e| format!("copy {}: {e}", from.display()))?;
            info.files += 1;
            info.bytes += copied;
        }
        if info.bytes >= low || info.bytes == before {
            break;
        }
    }
    sample_app::write_manifest(dest, "Benchmark")?;
    Ok(info)
}
