//! A package as a container runs it: without Sandstorm's HTTP bridge, so the supervisor is the
//! entry and the app's port is the container's; the port the bridge would have fronted is kept.

use soiree_party::Package;

/// The registry part of image names when none is given (what podman calls local images).
pub const DEFAULT_REGISTRY: &str = "localhost/soiree";

/// The image user: the grain's uid and gid.
pub const IMAGE_USER: &str = "1000:1000";

/// The registry images are named under: `given` (`--registry`) or the default, without a
/// trailing `/`.
pub fn registry(given: Option<&str>) -> &str {
    given.unwrap_or(DEFAULT_REGISTRY).trim_end_matches('/')
}

/// `PARTY-PACKAGE`: an image's repository under the registry.
pub fn repository(party: &str, package: &str) -> String {
    format!("{party}-{package}")
}

/// `REGISTRY/PARTY-PACKAGE:APP-VERSION`: the name `build --target oci` gives a package's image
/// and the compose file and chart refer to it by.
pub fn image_reference(
    registry_given: Option<&str>,
    party: &str,
    package: &str,
    app_version: impl std::fmt::Display,
) -> String {
    format!(
        "{}/{}:{app_version}",
        registry(registry_given),
        repository(party, package)
    )
}

/// Where the `sandstorm-http-bridge` recipe puts the bridge; `manifest::command_argv` runs it.
pub const BRIDGE_PROGRAM: &str = "/sandstorm-http-bridge";

/// The variable `sandstorm-http-bridge` sets by convention (`spk init` writes it): programs that
/// test for it expect Sandstorm (its bridge, its APIs), which a container does not have.
pub const SANDSTORM_VAR: &str = "SANDSTORM";

/// `pkg` without its bridge (the program, its settings and `SANDSTORM=1`) and the port the bridge
/// forwarded to, which a container exposes directly.
pub fn without_bridge(pkg: &Package) -> (Package, Option<u16>) {
    let mut container = pkg.clone();
    let port = container.bridge.take().map(|b| b.port);
    container.files.retain(|f| f.to != BRIDGE_PROGRAM);
    container.env.remove(SANDSTORM_VAR);
    (container, port)
}

/// What the image of `container` (from [`without_bridge`]) serves, as OCI `ExposedPorts` keys:
/// the bridge's port and the services' `ports` as `PORT/tcp`, their `udp-ports` as `PORT/udp`,
/// in port order (TCP first on a port that is both), each once.
pub fn exposed_ports(container: &Package, app_port: Option<u16>) -> Vec<String> {
    let mut ports: Vec<(u16, &str)> = app_port.into_iter().map(|p| (p, "tcp")).collect();
    for s in &container.services {
        ports.extend(s.ports.iter().map(|&p| (p, "tcp")));
        ports.extend(s.udp_ports.iter().map(|&p| (p, "udp")));
    }
    ports.sort_unstable();
    ports.dedup();
    ports
        .into_iter()
        .map(|(p, proto)| format!("{p}/{proto}"))
        .collect()
}
