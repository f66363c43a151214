//! A package as a container runs it: without Sandstorm's HTTP bridge, so the supervisor is the
//! entry and the app's port is the container's; the port the bridge would have fronted is kept.

use soiree_party::Package;

/// Where the `sandstorm-http-bridge` recipe puts the bridge; `manifest::command_argv` runs it.
pub const BRIDGE_PROGRAM: &str = "/sandstorm-http-bridge";

/// `pkg` without its bridge (the program and its settings) and the port the bridge forwarded to,
/// which a container exposes directly.
pub fn without_bridge(pkg: &Package) -> (Package, Option<u16>) {
    let mut container = pkg.clone();
    let port = container.bridge.take().map(|b| b.port);
    container.files.retain(|f| f.to != BRIDGE_PROGRAM);
    (container, port)
}
