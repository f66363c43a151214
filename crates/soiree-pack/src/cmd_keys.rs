//! `keygen` and `keys list|export`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use soiree_spk::{AppId, Error, KeyPair, Keyring};

use crate::cli::{KeyringArg, KeysCommand};

pub fn keyring(arg: &KeyringArg) -> Result<Keyring, Error> {
    match &arg.keyring {
        Some(path) => Ok(Keyring::at(path)),
        None => Keyring::default_path().map(Keyring::at).ok_or_else(|| Error::Io {
            path: "~/.sandstorm-keyring".into(),
            source: std::io::Error::other("HOME is not set; pass --keyring PATH"),
        }),
    }
}

pub fn parse_app_id(text: &str) -> Result<AppId, Error> {
    text.trim()
        .parse()
        .map_err(|e| Error::BadAppId(format!("{text:?}: {e}")))
}

pub fn keygen(arg: &KeyringArg) -> Result<(), Error> {
    let ring = keyring(arg)?;
    let key = KeyPair::generate().map_err(Error::io("random source"))?;
    let appended = ring.append(&key)?;
    if let Some(mode) = appended.mode_was {
        eprintln!(
            "note: {} was readable by others (mode {mode:04o}); it is now 0600",
            ring.path.display()
        );
    }
    eprintln!(
        "added a key to {}\nKeep this file secret and back it up: whoever holds it can publish updates of this app.",
        ring.path.display()
    );
    println!("{}", key.app_id());
    Ok(())
}

pub fn keys(cmd: &KeysCommand) -> Result<(), Error> {
    match cmd {
        KeysCommand::List { keyring: arg } => {
            let ring = keyring(arg)?;
            if !ring.path.exists() {
                eprintln!("no keyring at {}", ring.path.display());
            }
            let mut out = std::io::stdout().lock();
            for key in ring.read()? {
                writeln!(out, "{}", key.app_id()).map_err(Error::io("stdout"))?;
            }
            Ok(())
        }
        KeysCommand::Export {
            app_id,
            keyring: arg,
            output: Some(path),
        } => {
            let key = keyring(arg)?.find_exact(&parse_app_id(app_id)?)?;
            write_key_file(&key, path)?;
            eprintln!(
                "wrote the key of {} to {} (mode 0600)",
                key.app_id(),
                path.display()
            );
            Ok(())
        }
        KeysCommand::Export {
            app_id,
            keyring: arg,
            output: None,
        } => {
            let ring = keyring(arg)?;
            let id = parse_app_id(app_id)?;
            let mut out = std::io::stdout().lock();
            if out.is_terminal() {
                return Err(Error::KeyToTerminal);
            }
            let key = ring.find_exact(&id)?;
            let mut bytes = key.to_key_file();
            let written = out.write_all(&bytes).and_then(|()| out.flush());
            bytes.fill(0);
            written.map_err(Error::io("stdout"))
        }
    }
}

/// Writes one key as a new file of mode 0600, whatever the umask: written beside it, then linked
/// into place only if nothing is there (an existing file is never replaced).
fn write_key_file(key: &KeyPair, path: &Path) -> Result<(), Error> {
    if path.symlink_metadata().is_ok() {
        return Err(Error::KeyFileExists(path.to_path_buf()));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // tempfile creates its files 0600, and a umask can only take bits away.
    let mut tmp = tempfile::Builder::new()
        .prefix(".soiree-key-")
        .tempfile_in(dir)
        .map_err(Error::io(dir))?;
    let mut bytes = key.to_key_file();
    let written = tmp.write_all(&bytes).and_then(|()| tmp.as_file().sync_all());
    bytes.fill(0);
    written.map_err(Error::io(tmp.path()))?;
    tmp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            Error::KeyFileExists(path.to_path_buf())
        } else {
            Error::io(path)(e.error)
        }
    })?;
    Ok(())
}
