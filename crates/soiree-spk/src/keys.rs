//! Sandstorm keyrings: concatenated `KeyFile` messages, each a public key and seed ‖ public key.
//!
//! A keyring is only ever appended to; it is never truncated or rewritten, so a failed write can
//! cost at most the key being added.

use ed25519_dalek::SigningKey;
use soiree_schema::archive_capnp::key_file;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ids::AppId;
use crate::message;
use crate::regular_file::{self, OpenError};

/// The environment variable that may carry one signing key (base64 of a KeyFile message).
pub const SIGNING_KEY_ENV: &str = "SOIREE_SIGNING_KEY";

/// An Ed25519 key pair. Its `Debug` shows only the app id: private keys are never printed.
#[derive(Clone)]
pub struct KeyPair {
    signing: SigningKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({})", self.app_id())
    }
}

impl KeyPair {
    /// A new key from the operating system's random source.
    pub fn generate() -> std::io::Result<KeyPair> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(std::io::Error::other)?;
        Ok(KeyPair::from_seed(&seed))
    }

    pub fn from_seed(seed: &[u8; 32]) -> KeyPair {
        KeyPair {
            signing: SigningKey::from_bytes(seed),
        }
    }

    pub fn app_id(&self) -> AppId {
        AppId(self.signing.verifying_key().to_bytes())
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The `KeyFile` message for this key, exactly as `spk keygen` writes it (128 bytes).
    pub fn to_key_file(&self) -> Vec<u8> {
        let public = self.signing.verifying_key().to_bytes();
        let mut private = [0u8; 64];
        private[..32].copy_from_slice(&self.signing.to_bytes());
        private[32..].copy_from_slice(&public);
        let mut builder = message::single_segment_builder(16);
        {
            let mut root = builder.init_root::<key_file::Builder>();
            root.set_public_key(&public);
            root.set_private_key(&private);
        }
        private.fill(0);
        message::to_bytes(&builder)
    }

    /// Reads one `KeyFile`, checking that its halves belong together.
    fn from_key_file(reader: key_file::Reader) -> std::result::Result<KeyPair, String> {
        let public = reader.get_public_key().map_err(|e| e.to_string())?;
        let private = reader.get_private_key().map_err(|e| e.to_string())?;
        if public.len() != 32 {
            return Err(format!("public key has {} bytes, not 32", public.len()));
        }
        if private.len() != 64 {
            return Err(format!("private key has {} bytes, not 64", private.len()));
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&private[..32]);
        let pair = KeyPair::from_seed(&seed);
        seed.fill(0);
        let derived = pair.app_id().0;
        if derived[..] != public[..] || derived[..] != private[32..] {
            return Err("private key does not match its public key".into());
        }
        Ok(pair)
    }
}

/// Parses a keyring's bytes: zero or more concatenated `KeyFile` messages.
pub fn parse_keyring(bytes: &[u8], path: &Path) -> Result<Vec<KeyPair>> {
    let corrupt = |offset: usize, reason: String| Error::CorruptKeyring {
        path: path.to_path_buf(),
        offset,
        reason,
    };
    if !bytes.len().is_multiple_of(8) {
        return Err(corrupt(
            bytes.len() - bytes.len() % 8,
            "the file is not a whole number of 8-byte words".into(),
        ));
    }
    let words = message::aligned(bytes);
    let mut rest: &[u8] = capnp::Word::words_to_bytes(&words);
    let rest_len = rest.len();
    let mut keys = Vec::new();
    while !rest.is_empty() {
        let offset = rest_len - rest.len();
        let msg = capnp::serialize::read_message_from_flat_slice(&mut rest, message::small_options())
            .map_err(|e| corrupt(offset, e.to_string()))?;
        let root = msg
            .get_root::<key_file::Reader>()
            .map_err(|e| corrupt(offset, e.to_string()))?;
        keys.push(KeyPair::from_key_file(root).map_err(|e| corrupt(offset, e))?);
    }
    Ok(keys)
}

/// What [`Keyring::append`] found and changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Keys the keyring held before.
    pub keys_before: usize,
    /// The keyring's mode when others could read it, before it was set to 0600.
    pub mode_was: Option<u32>,
}

/// A keyring file on disk.
#[derive(Debug, Clone)]
pub struct Keyring {
    pub path: PathBuf,
}

impl Keyring {
    /// `~/.sandstorm-keyring`, where `spk` keeps it.
    pub fn default_path() -> Option<PathBuf> {
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".sandstorm-keyring"))
    }

    pub fn at(path: impl Into<PathBuf>) -> Keyring {
        Keyring { path: path.into() }
    }

    /// Opens the keyring as a regular file (a FIFO or a device in its place is refused, never
    /// waited on); `None` when it does not exist.
    fn open(&self, options: &mut OpenOptions) -> Result<Option<File>> {
        match regular_file::open(&self.path, options) {
            Ok(file) => Ok(Some(file)),
            Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(OpenError::Io(e)) => Err(Error::io(&self.path)(e)),
            Err(OpenError::NotRegular(kind)) => Err(Error::NotARegularFile {
                path: self.path.clone(),
                kind,
            }),
        }
    }

    /// All keys, in file order. A keyring that does not exist holds no keys.
    pub fn read(&self) -> Result<Vec<KeyPair>> {
        let Some(mut file) = self.open(OpenOptions::new().read(true))? else {
            return Ok(Vec::new());
        };
        let mut bytes = Vec::new();
        let read = file.read_to_end(&mut bytes).map_err(Error::io(&self.path));
        let keys = read.and_then(|_| parse_keyring(&bytes, &self.path));
        bytes.fill(0);
        keys
    }

    /// Appends one key, creating the keyring with mode 0600 if needed. Never truncates.
    ///
    /// The whole keyring is read first, through the descriptor that then appends: a file that is
    /// not a keyring (a `party.toml` passed by mistake) or a damaged one is refused, since a key
    /// appended after bytes that do not parse could never be listed or exported. A keyring that
    /// others can read is made 0600 before the private key goes in; what it was is returned.
    pub fn append(&self, key: &KeyPair) -> Result<Appended> {
        let mut file = self
            .open(
                OpenOptions::new()
                    .read(true)
                    .append(true)
                    .create(true)
                    .mode(0o600),
            )?
            .ok_or_else(|| Error::io(&self.path)(std::io::ErrorKind::NotFound.into()))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(Error::io(&self.path))?;
        let parsed = parse_keyring(&bytes, &self.path);
        let keys_before = match parsed {
            Ok(keys) => keys.len(),
            Err(Error::CorruptKeyring { offset, reason, .. }) => {
                // Keys before the bad entry make it a damaged keyring; none, some other file.
                let intact = bytes
                    .get(..offset)
                    .and_then(|head| parse_keyring(head, &self.path).ok())
                    .map_or(0, |keys| keys.len());
                let what = if intact == 0 {
                    "is not a keyring".to_string()
                } else {
                    format!("is a damaged keyring (only its first {intact} keys are whole)")
                };
                bytes.fill(0);
                return Err(Error::RefusedKeyring {
                    path: self.path.clone(),
                    what,
                    offset,
                    reason,
                });
            }
            Err(e) => {
                bytes.fill(0);
                return Err(e);
            }
        };
        bytes.fill(0);
        let mode = file.metadata().map_err(Error::io(&self.path))?.mode() & 0o7777;
        let mode_was = if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|source| Error::KeyringMode {
                    path: self.path.clone(),
                    mode,
                    source,
                })?;
            Some(mode)
        } else {
            None
        };
        let mut bytes = key.to_key_file();
        let written = file.write_all(&bytes).and_then(|()| file.sync_all());
        bytes.fill(0);
        written.map_err(Error::io(&self.path))?;
        Ok(Appended {
            keys_before,
            mode_was,
        })
    }

    /// The key for `app_id`, looked up like `spk pack` does: through the app-id replacement
    /// table, so a replaced app is signed with its current key.
    pub fn find(&self, app_id: &AppId) -> Result<KeyPair> {
        let wanted = crate::replacements::signing_key_for(app_id);
        self.read()?
            .into_iter()
            .find(|k| k.app_id() == wanted)
            .ok_or_else(|| Error::KeyNotFound {
                app_id: app_id.to_string(),
                path: self.path.clone(),
            })
    }

    /// The key for `app_id` without replacement mapping, as `spk getkey` exports it.
    pub fn find_exact(&self, app_id: &AppId) -> Result<KeyPair> {
        self.read()?
            .into_iter()
            .find(|k| k.app_id() == *app_id)
            .ok_or_else(|| Error::KeyNotFound {
                app_id: app_id.to_string(),
                path: self.path.clone(),
            })
    }
}

/// The key carried by `SOIREE_SIGNING_KEY`, if that variable is set.
pub fn key_from_env() -> Result<Option<KeyPair>> {
    match std::env::var(SIGNING_KEY_ENV) {
        Ok(text) => key_from_base64(&text).map(Some),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::BadEnvKey("not valid UTF-8".into())),
    }
}

/// Decodes base64 (standard or URL-safe, whitespace ignored) of exactly one `KeyFile` message.
pub fn key_from_base64(text: &str) -> Result<KeyPair> {
    let bytes = crate::ids::decode_base64(text).map_err(|e| Error::BadEnvKey(e.to_string()))?;
    let keys =
        parse_keyring(&bytes, Path::new(SIGNING_KEY_ENV)).map_err(|e| Error::BadEnvKey(e.to_string()))?;
    match <[KeyPair; 1]>::try_from(keys) {
        Ok([key]) => Ok(key),
        Err(keys) => Err(Error::BadEnvKey(format!("it holds {} keys, not one", keys.len()))),
    }
}

/// Chooses the signing key: `SOIREE_SIGNING_KEY` first, then the keyring (by app id, or its
/// only key when no app id is given).
pub fn choose_signing_key(keyring: &Keyring, app_id: Option<&AppId>) -> Result<KeyPair> {
    if let Some(key) = key_from_env()? {
        return match app_id {
            Some(wanted) if crate::replacements::signing_key_for(wanted) != key.app_id() => {
                Err(Error::EnvKeyMismatch {
                    found: key.app_id().to_string(),
                    wanted: wanted.to_string(),
                })
            }
            _ => Ok(key),
        };
    }
    match app_id {
        Some(id) => keyring.find(id),
        None => {
            let mut keys = keyring.read()?;
            match keys.len() {
                1 => Ok(keys.remove(0)),
                0 => Err(Error::KeyNotFound {
                    app_id: "(any)".into(),
                    path: keyring.path.clone(),
                }),
                count => Err(Error::AmbiguousKey {
                    path: keyring.path.clone(),
                    count,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_spk_shaped_and_round_trips() {
        let key = KeyPair::from_seed(&[7u8; 32]);
        let bytes = key.to_key_file();
        assert_eq!(bytes.len(), 128);
        assert_eq!(bytes[..8], [0, 0, 0, 0, 15, 0, 0, 0]);
        let parsed = parse_keyring(&bytes, Path::new("k")).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].app_id(), key.app_id());
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let key = KeyPair::from_seed(&[9u8; 32]);
        let shown = format!("{key:?}");
        assert_eq!(shown, format!("KeyPair({})", key.app_id()));
    }

    #[test]
    fn mismatched_halves_are_rejected_with_their_offset() {
        let good = KeyPair::from_seed(&[1u8; 32]).to_key_file();
        let mut bad = KeyPair::from_seed(&[2u8; 32]).to_key_file();
        bad[127] ^= 1; // last byte of the private key's public half
        let mut ring = good.clone();
        ring.extend_from_slice(&bad);
        let err = parse_keyring(&ring, Path::new("ring")).unwrap_err();
        assert!(matches!(err, Error::CorruptKeyring { offset: 128, .. }), "{err}");
    }

    #[test]
    fn truncated_keyring_is_an_error_not_a_panic() {
        let ring = KeyPair::from_seed(&[1u8; 32]).to_key_file();
        for len in 1..ring.len() {
            assert!(
                parse_keyring(&ring[..len], Path::new("ring")).is_err(),
                "len {len}"
            );
        }
    }

    #[test]
    fn env_key_accepts_standard_and_url_safe_base64() {
        let key = KeyPair::from_seed(&[3u8; 32]);
        let bytes = key.to_key_file();
        for text in [
            data_encoding::BASE64.encode(&bytes),
            data_encoding::BASE64URL_NOPAD.encode(&bytes),
            format!(" {}\n", data_encoding::BASE64.encode(&bytes)),
        ] {
            assert_eq!(key_from_base64(&text).unwrap().app_id(), key.app_id());
        }
        assert!(matches!(key_from_base64("not base64!"), Err(Error::BadEnvKey(_))));
        let two = [bytes.clone(), bytes].concat();
        assert!(matches!(
            key_from_base64(&data_encoding::BASE64.encode(&two)),
            Err(Error::BadEnvKey(_))
        ));
    }
}
