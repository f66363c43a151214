//! Granted capabilities of the package's Powerbox requests: `/var/.soiree/links/NAME.cap`
//! (mode 0600) holds the token the bridge's claim endpoint returned, kept across restarts.

use std::path::{Path, PathBuf};

/// The folder of capability files, relative to `/var`.
pub const LINKS_DIR: &str = ".soiree/links";

#[derive(Debug, Clone)]
pub struct LinkStore {
    dir: PathBuf,
}

impl LinkStore {
    pub fn new(var_dir: &Path) -> LinkStore {
        LinkStore {
            dir: var_dir.join(LINKS_DIR),
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.cap"))
    }

    /// The capability of request `name`, if it was granted and not unlinked.
    pub fn get(&self, name: &str) -> Option<String> {
        let text = std::fs::read_to_string(self.file(name)).ok()?;
        let cap = text.trim();
        (!cap.is_empty()).then(|| cap.to_string())
    }

    /// Keeps `cap` for `name`, replacing an earlier one whole.
    pub fn put(&self, name: &str, cap: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        use std::os::unix::fs::PermissionsExt;
        // Only the grain's user reads capabilities, whatever the umask made of the folder.
        std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o700))?;
        crate::store::write_whole(&self.file(name), format!("{cap}\n").as_bytes(), 0o600)
    }

    /// Forgets `name`'s capability; nothing to forget is not an error.
    pub fn remove(&self, name: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.file(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn keeps_a_capability_private_and_forgets_it() {
        let var = tempfile::tempdir().unwrap();
        let store = LinkStore::new(var.path());
        assert_eq!(store.get("uro"), None);
        store.put("uro", "dG9rZW4=").unwrap();
        store.put("uro", "bmV3").unwrap();
        assert_eq!(store.get("uro").as_deref(), Some("bmV3"));
        let file = var.path().join(".soiree/links/uro.cap");
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let dir = var.path().join(".soiree/links");
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        // A second store over the same /var (the grain started again) sees it.
        assert_eq!(LinkStore::new(var.path()).get("uro").as_deref(), Some("bmV3"));
        store.remove("uro").unwrap();
        store.remove("uro").unwrap();
        assert_eq!(store.get("uro"), None);
    }
}
