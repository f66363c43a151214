//! Per-grain secrets: `/var/.soiree/secrets/<service>.env` holds `NAME=value` lines, made on the
//! grain's first start from the kernel's random source and read on every start after, so that a
//! service's keys stay the same for the grain's life and are never part of the package.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The secrets directory, relative to `/var`.
pub const SECRETS_DIR: &str = ".soiree/secrets";

pub fn file(var_dir: &Path, service: &str) -> PathBuf {
    var_dir.join(SECRETS_DIR).join(format!("{service}.env"))
}

/// The values of `wanted` (name → bytes of randomness) for `service`: those kept from an earlier
/// start, and new ones for the rest (then written back, whole, mode 0600).
pub fn load_or_create(
    var_dir: &Path,
    service: &str,
    wanted: &BTreeMap<String, u32>,
) -> std::io::Result<BTreeMap<String, String>> {
    let path = file(var_dir, service);
    let mut kept = match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e),
    };
    let mut changed = false;
    for (name, bytes) in wanted {
        if !kept.contains_key(name) {
            kept.insert(name.clone(), random(*bytes as usize)?);
            changed = true;
        }
    }
    if changed {
        write(&path, &kept)?;
    }
    // A secret dropped from the recipe stays in the file (a later version may want it back),
    // but only the wanted ones reach the service.
    Ok(kept.into_iter().filter(|(k, _)| wanted.contains_key(k)).collect())
}

fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// URL-safe base64 without padding: fits in any environment variable, URL or config file.
fn random(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(data_encoding::BASE64URL_NOPAD.encode(&buf))
}

/// One `NAME=value` line each, readable by the grain's user only.
fn write(path: &Path, values: &BTreeMap<String, String>) -> std::io::Result<()> {
    let text: String = values.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    crate::store::write_whole(path, text.as_bytes(), 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_and_kept() {
        let var = tempfile::tempdir().unwrap();
        let wanted = BTreeMap::from([("KEY_BASE".to_string(), 64), ("SIGNER".to_string(), 32)]);
        let first = load_or_create(var.path(), "uro", &wanted).unwrap();
        assert_eq!(first["KEY_BASE"].len(), 86, "64 bytes in unpadded base64");
        assert_eq!(first["SIGNER"].len(), 43);
        assert_ne!(first["KEY_BASE"][..43], first["SIGNER"]);
        let again = load_or_create(var.path(), "uro", &wanted).unwrap();
        assert_eq!(first, again);
        let mode = std::fs::metadata(file(var.path(), "uro")).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );

        // A new secret is added; the old ones stay.
        let more = BTreeMap::from([("KEY_BASE".to_string(), 64), ("OTHER".to_string(), 16)]);
        let third = load_or_create(var.path(), "uro", &more).unwrap();
        assert_eq!(third["KEY_BASE"], first["KEY_BASE"]);
        assert!(!third.contains_key("SIGNER"));
        assert_eq!(
            load_or_create(var.path(), "uro", &wanted).unwrap()["SIGNER"],
            first["SIGNER"]
        );
    }
}
