//! A package's links resolved across the party: each Powerbox request its programs reach
//! locally (`local-port`, `local-path`) → the package whose offer has the request's canonical
//! URL → that package's HTTP port and the offer's path. What Sandstorm's Powerbox does when a
//! user grants the request, done once for deployments without it (`build --target
//! compose|helm`); a request that leads nowhere is an error at its `local-port` line.

use soiree_party::{Interface, Package, Party, PartyError, Request};

/// One link of `package`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLink {
    pub package: String,
    pub request: String,
    /// The loopback port the package's programs use, and the path there that stands for the
    /// API's root (taken off before the offer's path is put on).
    pub port: u16,
    pub local_path: String,
    /// The package that offers what the request asks for.
    pub target: String,
    /// Its HTTP port (the bridge's) and the offer's path on it.
    pub target_port: u16,
    pub path: String,
}

/// Every request reached locally of every package of `party`, in package then declaration
/// order, or every one that cannot be resolved.
pub fn resolve(party: &Party) -> Result<Vec<PlannedLink>, Vec<PartyError>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for pkg in &party.packages {
        for request in &pkg.requests {
            let Some(local) = &request.local else {
                // Reached through the link page only (an ip-network, a browser's API).
                continue;
            };
            match resolve_one(party, pkg, request, local) {
                Ok(l) => out.push(l),
                Err(e) => problems.push(e),
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn resolve_one(
    party: &Party,
    pkg: &Package,
    request: &Request,
    local: &soiree_party::LocalApi,
) -> Result<PlannedLink, PartyError> {
    let fail = |message: String, label: &str| {
        PartyError::new("soiree::deploy::link", message).at(
            request.origin.place.clone(),
            format!("{label} (from {})", request.origin.via),
        )
    };
    let url = match (request.interface, &request.canonical_url) {
        (Interface::ApiSession, Some(url)) => url,
        _ => {
            return Err(fail(
                format!(
                    "request `{}` of package `{}` is not an api-session with a canonical-url: no package can answer it at an address",
                    request.name, pkg.name
                ),
                "this address cannot be resolved",
            ))
        }
    };
    let offering: Vec<(&Package, &soiree_party::Offer)> = party
        .packages
        .iter()
        .filter(|p| p.name != pkg.name)
        .flat_map(|p| p.offers.iter().map(move |o| (p, o)))
        .filter(|(_, o)| &o.canonical_url == url)
        .collect();
    match offering.as_slice() {
        [(target, offer)] => {
            let Some(bridge) = &target.bridge else {
                return Err(fail(
                    format!("package `{}` offers {url} but has no HTTP port", target.name),
                    "this address cannot be resolved",
                ));
            };
            Ok(PlannedLink {
                package: pkg.name.clone(),
                request: request.name.clone(),
                port: local.port,
                local_path: local.path.clone(),
                target: target.name.clone(),
                target_port: bridge.port,
                path: offer.path.clone(),
            })
        }
        [] => Err(fail(
            format!(
                "no package of the party offers {url}, which request `{}` of package `{}` asks for",
                request.name, pkg.name
            ),
            "this address cannot be resolved",
        )
        .help("add an `[[packages.NAME.offers]]` with this canonical-url to the package that serves it")),
        many => Err(fail(
            format!(
                "packages {} all offer {url}: which one request `{}` leads to is the user's choice on Sandstorm, not here",
                many.iter().map(|(p, _)| format!("`{}`", p.name)).collect::<Vec<_>>().join(", "),
                request.name
            ),
            "this address cannot be resolved",
        )),
    }
}
