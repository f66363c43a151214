//! `keygen` and `keys list|export`.

use std::io::{IsTerminal, Write};

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
    ring.append(&key)?;
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
        KeysCommand::Export { app_id, keyring: arg } => {
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
