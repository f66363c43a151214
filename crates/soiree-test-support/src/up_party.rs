//! What tests of `up` share: Sandstorm's bridge bundle and the gateway's port in up's log.

use std::path::{Path, PathBuf};

/// Sandstorm's bridge built from source, laid out like a release bundle
/// (`../shared/sandstorm-bundle` beside the repository), or `SOIREE_SANDSTORM_BUNDLE`. `None`
/// (said on stderr) when it has no `bin/sandstorm-http-bridge`.
pub fn sandstorm_bundle() -> Option<PathBuf> {
    let dir = std::env::var_os("SOIREE_SANDSTORM_BUNDLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sandstorm-bundle"));
    if dir.join("bin/sandstorm-http-bridge").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} has no bin/sandstorm-http-bridge (set SOIREE_SANDSTORM_BUNDLE)",
            dir.display()
        );
        None
    }
}

/// The gateway's port in the stderr of `soiree-pack up`. Grains write to the same stderr, so
/// one of up's lines may be cut by theirs, and they print loopback URLs of their own (nginx's
/// upstream): only a whole shell URL, `http://127.0.0.1:PORT/grain/`, which only up prints,
/// is taken.
pub fn gateway_port(log: &str) -> Option<u16> {
    const AT: &str = "http://127.0.0.1:";
    log.match_indices(AT).find_map(|(at, _)| {
        let rest = &log[at + AT.len()..];
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if rest[digits..].starts_with("/grain/") {
            rest[..digits].parse().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::gateway_port;

    #[test]
    fn the_gateway_port_is_found_only_in_a_whole_shell_url() {
        let log = "nginx| upstream: \"http://127.0.0.1:4000/api/v1//\"\n\
                   the party is up: http://127.0.0.1:36soiree-grain| x\n\
                   311/\nclient: http://127.0.0.1:36311/grain/client/\n";
        assert_eq!(gateway_port(log), Some(36311));
        assert_eq!(gateway_port("the party is up: http://127.0.0.1:36311/\n"), None);
    }
}
