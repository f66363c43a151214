//! Writing a target's files: into a folder beside the output, marked as soiree-pack's, then
//! switched in for the old one, which is replaced only if soiree-pack made all of it.

use std::collections::BTreeMap;
use std::path::Path;

use soiree_fs::owned::{replace_together, OwnedDir};

/// Puts `files` (relative path → text) in `dir`, replacing what soiree-pack wrote there before.
pub fn write_dir(dir: &Path, files: &BTreeMap<String, String>) -> Result<(), String> {
    OwnedDir::check_replaceable(dir).map_err(|e| e.to_string())?;
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".soiree-deploy-")
        .tempdir_in(parent)
        .map_err(|e| format!("{}: {e}", parent.display()))?;
    for (rel, text) in files {
        let path = tmp.path().join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    OwnedDir::mark(tmp.path()).map_err(|e| format!("{}: {e}", tmp.path().display()))?;
    let staged = tmp.keep();
    replace_together(&[(staged.clone(), dir.to_path_buf())]).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        format!("{}: {e}", dir.display())
    })
}
