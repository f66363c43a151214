//! What a grain of the package runs: the manifest's `continueCommand`, its environment, and the
//! HTTP bridge's port when the command starts the bridge.

use std::path::Path;

use soiree_schema::manifest_capnp::manifest;

use crate::Error;

/// Sandstorm's bridge, which `run` cannot start (it needs Sandstorm's own supervisor socket).
pub const BRIDGE: &str = "/sandstorm-http-bridge";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrainCommand {
    /// What `run` starts: the command after the bridge's `--`, or the whole command.
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    /// The port the bridge would send requests to, if the command starts the bridge.
    pub bridge_port: Option<u16>,
    /// The manifest's whole command, bridge included (what `up` starts).
    pub with_bridge: Vec<String>,
}

impl GrainCommand {
    /// Reads `root/sandstorm-manifest`.
    pub fn read(root: &Path) -> Result<GrainCommand, Error> {
        let path = root.join("sandstorm-manifest");
        let bad = |reason: String| Error::Manifest {
            path: path.clone(),
            reason,
        };
        let bytes = std::fs::read(&path).map_err(|e| bad(e.to_string()))?;
        let words = soiree_spk::message::aligned(&bytes);
        let mut slice = capnp::Word::words_to_bytes(&words);
        let msg =
            capnp::serialize::read_message_from_flat_slice(&mut slice, soiree_spk::message::small_options())
                .map_err(|e| bad(e.to_string()))?;
        let m = msg
            .get_root::<manifest::Reader>()
            .map_err(|e| bad(e.to_string()))?;
        let c = m.get_continue_command().map_err(|e| bad(e.to_string()))?;
        let text = |t: capnp::Result<capnp::text::Reader>| -> Result<String, Error> {
            let t = t.map_err(|e| bad(e.to_string()))?;
            Ok(String::from_utf8_lossy(t.as_bytes()).into_owned())
        };
        let mut argv = Vec::new();
        for a in c.get_argv().map_err(|e| bad(e.to_string()))? {
            argv.push(text(a)?);
        }
        let mut env = Vec::new();
        for kv in c.get_environ().map_err(|e| bad(e.to_string()))? {
            env.push((text(kv.get_key())?, text(kv.get_value())?));
        }
        GrainCommand::from_argv(argv, env).map_err(bad)
    }

    /// Splits `/sandstorm-http-bridge PORT -- COMMAND…` into the port and the command.
    pub fn from_argv(argv: Vec<String>, env: Vec<(String, String)>) -> Result<GrainCommand, String> {
        if argv.is_empty() {
            return Err("continueCommand has no argv".into());
        }
        if argv[0] != BRIDGE {
            return Ok(GrainCommand {
                with_bridge: argv.clone(),
                argv,
                env,
                bridge_port: None,
            });
        }
        let port = argv
            .get(1)
            .and_then(|p| p.parse::<u16>().ok())
            .ok_or_else(|| format!("`{BRIDGE}` is not followed by a port: {argv:?}"))?;
        let rest = argv
            .iter()
            .position(|a| a == "--")
            .map(|i| argv[i + 1..].to_vec())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| format!("`{BRIDGE} {port}` has no `-- COMMAND`: {argv:?}"))?;
        Ok(GrainCommand {
            argv: rest,
            env,
            bridge_port: Some(port),
            with_bridge: argv,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn strips_the_bridge() {
        let g = GrainCommand::from_argv(
            v(&[
                BRIDGE,
                "8000",
                "--",
                "/opt/soiree/bin/soiree-grain",
                "/opt/soiree/services.json",
            ]),
            vec![],
        )
        .unwrap();
        assert_eq!(
            g.argv,
            v(&["/opt/soiree/bin/soiree-grain", "/opt/soiree/services.json"])
        );
        assert_eq!(g.bridge_port, Some(8000));
        assert_eq!(g.with_bridge[..3], v(&[BRIDGE, "8000", "--"]));
        let g = GrainCommand::from_argv(v(&["/app"]), vec![]).unwrap();
        assert_eq!((g.argv, g.bridge_port), (v(&["/app"]), None));
        assert!(GrainCommand::from_argv(v(&[BRIDGE, "x", "--", "/a"]), vec![]).is_err());
        assert!(GrainCommand::from_argv(v(&[BRIDGE, "80", "--"]), vec![]).is_err());
        assert!(GrainCommand::from_argv(vec![], vec![]).is_err());
    }
}
