//! A package's links resolved across the party: the recipe's loopback address
//! (`127.0.0.1:4000`) → the package's Powerbox request of that name → the package whose offer
//! has the request's canonical URL → that package's HTTP port and the offer's path. What
//! Sandstorm's Powerbox does when a user grants the request, done once for deployments without
//! it (`build --target compose|helm`); a link that leads nowhere is an error at its recipe line.

use soiree_party::{Interface, Link, Package, Party, PartyError};

/// One link of `package`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLink {
    pub package: String,
    pub request: String,
    /// The loopback port the package's programs use.
    pub port: u16,
    /// The package that offers what the request asks for.
    pub target: String,
    /// Its HTTP port (the bridge's) and the offer's path on it.
    pub target_port: u16,
    pub path: String,
}

/// Every link of every package of `party`, in package then recipe order, or every link that
/// cannot be resolved.
pub fn resolve(party: &Party) -> Result<Vec<PlannedLink>, Vec<PartyError>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for pkg in &party.packages {
        for link in &pkg.links {
            match resolve_one(party, pkg, link) {
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

fn resolve_one(party: &Party, pkg: &Package, link: &Link) -> Result<PlannedLink, PartyError> {
    let fail = |message: String, label: &str| {
        PartyError::new("soiree::deploy::link", message).at(
            link.origin.place.clone(),
            format!("{label} (from {})", link.origin.via),
        )
    };
    let Some(request) = pkg.requests.iter().find(|r| r.name == link.request) else {
        let names: Vec<&str> = pkg.requests.iter().map(|r| r.name.as_str()).collect();
        return Err(fail(
            format!(
                "package `{}` has no request `{}` for 127.0.0.1:{} to lead to",
                pkg.name, link.request, link.port
            ),
            "this address cannot be resolved",
        )
        .help(if names.is_empty() {
            format!(
                "add `[[packages.{}.requests]]` named `{}` to party.toml",
                pkg.name, link.request
            )
        } else {
            format!("its requests are: {}", names.join(", "))
        }));
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
                port: link.port,
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
