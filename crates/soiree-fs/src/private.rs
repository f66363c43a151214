//! Folders that hold secrets (development keys) or a user's cache: mode 0700 whatever the umask.

use std::fs::DirBuilder;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and missing parents) with mode 0700; an existing `dir` that others can read
/// or enter is narrowed to 0700, since soiree-pack made it and it holds what only the user
/// should see.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    // The mode passed to mkdir is masked by the umask, which can only take bits away from 0700.
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let meta = std::fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(std::io::Error::other("not a directory"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
