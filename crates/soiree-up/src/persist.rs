//! What a grain's saved capabilities are, kept on disk so that they outlive `up`: for each token
//! `SandstormApi.save` returned, an API another grain exports (restored by that grain's bridge
//! from the object id its `AppPersistent.save` gave) or a user's `Identity`. The file sits beside
//! the grain's `/var` (`VAR.saved.json`), written whole to a temporary file and renamed, 0600,
//! only while the grain runs — that is, while `up` holds the lock beside its `/var`.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What a saved capability is, enough to build it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Record {
    /// An API grain `grain` exports through the Powerbox: its bridge's object id (a
    /// `BridgeObjectId`: the API's name, path, permissions and who chose it), as a flat Cap'n
    /// Proto message in base64.
    Api { grain: String, object_id: String },
    /// A user of the picker (`owner`, `role-N`), as the shell gave them to a session.
    Identity {
        key: String,
        name: String,
        handle: String,
    },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    /// Token → what it names. Sorted, so that the file changes only where the table does.
    saved: BTreeMap<String, Record>,
}

/// Where the table of the grain with this `/var` is kept: beside it, like its lock.
pub fn table_path(var: &Path) -> PathBuf {
    let name = var
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "var".into());
    var.with_file_name(format!("{name}.saved.json"))
}

/// Reads a table; none yet is an empty one.
pub fn load(path: &Path) -> Result<BTreeMap<String, Record>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<File>(&bytes)
            .map(|f| f.saved)
            .map_err(|e| format!("{}: not a table of saved capabilities: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes the table: a temporary file beside it (0600: tokens are credentials), then renamed
/// over it, so that a crash leaves the old table or the new one.
pub fn store(path: &Path, saved: &BTreeMap<String, Record>) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(&File { saved: saved.clone() }).map_err(std::io::Error::other)?;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(&text)?;
            f.write_all(b"\n")?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn tables_round_trip_privately_beside_the_var() {
        let dir = tempfile::tempdir().unwrap();
        let path = table_path(&dir.path().join("var"));
        assert_eq!(path, dir.path().join("var.saved.json"));
        assert!(load(&path).unwrap().is_empty());
        let mut t = BTreeMap::new();
        t.insert(
            "tok".to_string(),
            Record::Api {
                grain: "uro".into(),
                object_id: "AAAA".into(),
            },
        );
        t.insert(
            "who".to_string(),
            Record::Identity {
                key: "owner".into(),
                name: "Owner".into(),
                handle: "owner".into(),
            },
        );
        store(&path, &t).unwrap();
        assert_eq!(load(&path).unwrap(), t);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(&path, "{").unwrap();
        assert!(load(&path)
            .unwrap_err()
            .contains("not a table of saved capabilities"));
    }
}
