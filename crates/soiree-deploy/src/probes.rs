//! Readiness checks as container probes. The supervisor in each container runs its service's
//! check as in a grain and records the result under `/var/.soiree/ready/`; the probe is
//! `soiree-grain --ready NAME` in the same container, so TCP, HTTP, Unix-socket, file and log
//! checks all map. What cannot: a check that asks another host, which in a grain (loopback
//! only) and in a container alike would probe something other than the service.

use soiree_grain::ready::HttpUrl;
use soiree_party::{Package, PartyError, Ready};

/// The services of `pkg` whose readiness no probe of their own container can answer.
pub fn unmappable(pkg: &Package) -> Vec<PartyError> {
    let mut out = Vec::new();
    for s in &pkg.services {
        let Some(Ready::Http(url)) = &s.ready else {
            continue;
        };
        let host = HttpUrl::parse(url).map(|u| u.host).unwrap_or_default();
        if !matches!(host.as_str(), "127.0.0.1" | "localhost" | "::1") {
            out.push(
                PartyError::new(
                    "soiree::deploy::readiness",
                    format!(
                        "the readiness check of service `{}` asks {url}, which is not the service's own loopback: it cannot be mapped to a probe of its container",
                        s.name
                    ),
                )
                .at(s.origin.place.clone(), format!("from {}", s.origin.via))
                .help("check the service itself on 127.0.0.1; reach other packages through a request's local-port"),
            );
        }
    }
    out
}
