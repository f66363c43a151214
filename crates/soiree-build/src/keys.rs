//! Which key signs a package: the app's real key (from `SOIREE_SIGNING_KEY` or the keyring, by
//! the package's `app-id`), or — unless the build is a release — a development key kept per party
//! and package in the user's data folder, which the caller must announce.

use std::path::PathBuf;

use soiree_party::{Package, Party};
use soiree_spk::{keys, KeyPair, Keyring};

use crate::BuildError;

/// How a build finds its signing keys.
#[derive(Debug, Clone)]
pub struct KeyPolicy {
    pub keyring: Keyring,
    /// A release build signs only with real keys.
    pub release: bool,
}

/// The key a package is signed with; `development` is where a development key is kept, when
/// that is what signs (the caller says so loudly: Sandstorm sees a different app).
#[derive(Debug)]
pub struct SigningKey {
    pub pair: KeyPair,
    pub development: Option<PathBuf>,
}

/// Where development keys live: the user's data directory, never the release keyring.
pub fn dev_keys_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .map(|d| d.join("soiree-pack/dev-keys"))
}

impl KeyPolicy {
    /// The key for `pkg`, by the rules above.
    pub fn key_for(&self, party: &Party, pkg: &Package) -> Result<SigningKey, BuildError> {
        if let Some(id) = &pkg.app_id {
            let env = keys::key_from_env()?;
            if let Some(k) = env.filter(|k| k.app_id() == soiree_spk::replacements::signing_key_for(id)) {
                return Ok(SigningKey {
                    pair: k,
                    development: None,
                });
            }
            match self.keyring.find(id) {
                Ok(k) => {
                    return Ok(SigningKey {
                        pair: k,
                        development: None,
                    })
                }
                Err(soiree_spk::Error::KeyNotFound { .. }) if self.release => {
                    return Err(self.missing_key(&pkg.name, &id.to_string()))
                }
                // Only a key that is not there falls back to a development key; a keyring that
                // cannot be read or parsed is the user's to fix, not to paper over.
                Err(soiree_spk::Error::KeyNotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        } else if self.release {
            return Err(BuildError::Key {
                message: format!(
                    "package `{}` has no app-id in party.toml; a release build signs with the app's real key",
                    pkg.name
                ),
                help: Some(format!(
                    "make a key with `soiree-pack keygen` and record its app id with `soiree-pack set packages.{}.app-id <ID>`",
                    pkg.name
                )),
            });
        }
        let (pair, kept) = dev_key(party, pkg)?;
        Ok(SigningKey {
            pair,
            development: Some(kept),
        })
    }

    fn missing_key(&self, package: &str, app_id: &str) -> BuildError {
        let ring = self.keyring.path.display();
        let state = if self.keyring.path.exists() {
            "does not hold it"
        } else {
            "does not exist"
        };
        BuildError::Key {
            message: format!("package `{package}`: no key for app {app_id}: the keyring {ring} {state}"),
            help: Some(format!(
                "give the key one of three ways: `soiree-pack keygen` then `soiree-pack set packages.{package}.app-id <ID>`; \
                 SOIREE_SIGNING_KEY (base64 of `soiree-pack keys export ID`); or --keyring PATH"
            )),
        }
    }
}

/// The development key of `pkg`, made on first use; and where it is kept.
fn dev_key(party: &Party, pkg: &Package) -> Result<(KeyPair, PathBuf), BuildError> {
    let dir = dev_keys_dir().ok_or_else(|| {
        BuildError::Machine("neither XDG_DATA_HOME nor HOME is set; cannot keep a development key".into())
    })?;
    // Development keys are private keys all the same: the folder is the user's alone.
    soiree_fs::create_private_dir(&dir).map_err(BuildError::io(&dir))?;
    // Party and package names follow the file-name rule (checked when the party is loaded).
    let ring = Keyring::at(dir.join(format!("{}-{}.keyring", party.meta.name, pkg.name)));
    let mut keys = ring.read()?;
    if let Some(k) = keys.pop() {
        return Ok((k, ring.path));
    }
    let k = KeyPair::generate().map_err(BuildError::io("random source"))?;
    ring.append(&k)?;
    Ok((k, ring.path))
}
