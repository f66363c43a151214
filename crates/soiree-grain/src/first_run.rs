//! First-run markers: `/var/.soiree/first-run/<service>.done` exists once a service's first-run
//! commands have all succeeded in this grain. `/var` is kept with the grain, so they run once
//! per grain, not once per start.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The marker directory, relative to `/var`.
pub const MARKER_DIR: &str = ".soiree/first-run";

pub fn marker(var_dir: &Path, service: &str) -> PathBuf {
    var_dir.join(MARKER_DIR).join(format!("{service}.done"))
}

/// Creates `marker` so that it exists whole or not at all (written beside, then renamed), even
/// if the grain is killed meanwhile.
pub fn mark_done(marker: &Path) -> std::io::Result<()> {
    let dir = marker.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = marker.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(b"first-run commands succeeded\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, marker)
}
