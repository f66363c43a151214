//! First-run markers: `/var/.soiree/first-run/<service>.done` exists once a service's first-run
//! commands have all succeeded in this grain. `/var` is kept with the grain, so they run once
//! per grain, not once per start.

use std::path::{Path, PathBuf};

/// The marker directory, relative to `/var`.
pub const MARKER_DIR: &str = ".soiree/first-run";

pub fn marker(var_dir: &Path, service: &str) -> PathBuf {
    var_dir.join(MARKER_DIR).join(format!("{service}.done"))
}

/// Creates `marker`, whole or not at all.
pub fn mark_done(marker: &Path) -> std::io::Result<()> {
    crate::store::write_whole(marker, b"first-run commands succeeded\n", 0o666)
}
