//! Which `party.toml` a command means: the one `--party` names, or, as cargo finds
//! `Cargo.toml`, the nearest one in the current folder or a folder above it.

use std::path::{Path, PathBuf};

use crate::cli::PartyFileArg;

const NAME: &str = "party.toml";

impl PartyFileArg {
    /// The party file: `--party`, else the nearest `party.toml` upwards, else `party.toml` here
    /// (whose absence the loader reports).
    pub fn path(&self) -> PathBuf {
        if let Some(p) = &self.party {
            return p.clone();
        }
        std::env::current_dir()
            .ok()
            .and_then(|here| nearest(&here))
            .unwrap_or_else(|| PathBuf::from(NAME))
    }
}

/// The nearest `party.toml` in `start` or a folder above it, relative to `start` when it is
/// `start`'s own, so that messages keep saying `party.toml`.
fn nearest(start: &Path) -> Option<PathBuf> {
    if start.join(NAME).is_file() {
        return Some(PathBuf::from(NAME));
    }
    start
        .ancestors()
        .skip(1)
        .map(|dir| dir.join(NAME))
        .find(|p| p.is_file())
}

/// The folder the party file is in (`""` for one in the current folder), where `dist/` goes.
pub fn folder(party: &Path) -> &Path {
    party.parent().unwrap_or(Path::new(""))
}
