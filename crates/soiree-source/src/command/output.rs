//! What a command leaves is checked like any source before it is kept: regular files,
//! directories and symlinks that stay inside the output folder, nothing else.

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use crate::confine::{self, Confined};
use crate::error::{walk_error, Error, Result};

/// What a file that is neither a regular file, a directory nor a symlink is, for messages.
pub(crate) fn special_kind(ft: std::fs::FileType) -> &'static str {
    if ft.is_socket() {
        "socket"
    } else if ft.is_fifo() {
        "fifo"
    } else {
        "device"
    }
}

/// Checks the output folder `root` of source `name`.
pub(crate) fn check(name: &str, root: &Path) -> Result<()> {
    let refuse = |path: &Path, reason: String| Error::CommandOutput {
        name: name.to_string(),
        path: path.strip_prefix(root).unwrap_or(path).to_path_buf(),
        reason,
    };
    for entry in walkdir::WalkDir::new(root).min_depth(1) {
        let entry = entry.map_err(|e| walk_error(root, e))?;
        let ft = entry.file_type();
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        if ft.is_symlink() {
            let target = std::fs::read_link(entry.path()).map_err(Error::io(entry.path()))?;
            let parent = rel.parent().unwrap_or(Path::new(""));
            match confine::resolve(root, parent, &target, true).map_err(Error::io(entry.path()))? {
                Confined::Inside(_) => {}
                Confined::Escapes(why) => {
                    return Err(refuse(
                        entry.path(),
                        format!(
                            "is a symlink to {} that leaves the output: {why}",
                            target.display()
                        ),
                    ))
                }
            }
        } else if !(ft.is_file() || ft.is_dir()) {
            let kind = special_kind(ft);
            return Err(refuse(
                entry.path(),
                format!("is a {kind}, which a package cannot hold"),
            ));
        }
    }
    Ok(())
}
