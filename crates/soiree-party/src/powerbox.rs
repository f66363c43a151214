//! The package's Powerbox declarations: offers (its API, for other grains to request) and
//! requests (what it asks other grains for), checked and made ready for the plan.

use crate::diagnostic::{closest, unknown_param, PartyError, Place, Problems, SourceFile};
use crate::model::*;
use crate::params::{self, Params};
use crate::schema::{OfferSpec, PackageSpec, RequestSpec, S};
use crate::vocab;

pub(crate) fn offers(
    specs: &[(S<OfferSpec>, SourceFile, Params, String)],
    bridge: Option<&Bridge>,
    package: &str,
    party_file: &SourceFile,
    pkg: &S<PackageSpec>,
    problems: &mut Problems,
) -> Vec<Offer> {
    let mut out: Vec<Offer> = Vec::new();
    if !specs.is_empty() && bridge.is_none() {
        problems.push(
            PartyError::new(
                "soiree::party::offer",
                format!("package `{package}` offers an API but has no bridge"),
            )
            .at_span(
                party_file,
                pkg.span(),
                "powerbox APIs are declared in the http-bridge config",
            )
            .help("use the `sandstorm-http-bridge` recipe"),
        );
        return out;
    }
    let perms = bridge.map(|b| b.permissions.as_slice()).unwrap_or(&[]);
    for (o, file, p, _) in specs {
        let spec = o.get_ref();
        let sub = |s: &S<String>, problems: &mut Problems| {
            params::substitute(s.get_ref(), p)
                .map_err(|u| problems.push(unknown_param(file, s.span(), &u)))
                .unwrap_or_default()
        };
        let url = sub(&spec.canonical_url, problems);
        if let Some(problem) = vocab::url_problem(&url) {
            problems.push(
                PartyError::new("soiree::party::url", "canonical-url is not a usable URL").at_span(
                    file,
                    spec.canonical_url.span(),
                    problem,
                ),
            );
        }
        let path = sub(&spec.path, problems);
        if !path.ends_with('/') {
            problems.push(
                PartyError::new(
                    "soiree::party::offer_path",
                    "an offered API's path must end with `/`",
                )
                .at_span(file, spec.path.span(), "Sandstorm requires a trailing slash"),
            );
        }
        let mut idx = Vec::new();
        for name in &spec.permissions {
            match perms.iter().position(|p| p.name == *name.get_ref()) {
                Some(i) => idx.push(i),
                None => problems.push(crate::bridge::unknown_permission(file, name, perms)),
            }
        }
        let name = sub(&spec.name, problems);
        if out.iter().any(|x| x.name == name) {
            problems.push(
                PartyError::new(
                    "soiree::party::offer",
                    format!("the API `{name}` is offered twice"),
                )
                .at_span(file, spec.name.span(), "again here"),
            );
            continue;
        }
        out.push(Offer {
            name,
            path,
            canonical_url: url,
            title: spec.title.clone(),
            verb_phrase: spec.verb_phrase.clone(),
            description: spec.description.clone(),
            permissions: idx,
        });
    }
    out
}

/// The package's requests; `taken` are the ports its services listen on, which no request's
/// forwarder may take.
pub(crate) fn requests(
    specs: &[(S<RequestSpec>, SourceFile, Params, String)],
    taken: &[(u16, String)],
    problems: &mut Problems,
) -> Vec<Request> {
    let mut out: Vec<Request> = Vec::new();
    for (r, file, p, via) in specs {
        let spec = r.get_ref();
        let Some(interface) = Interface::parse(spec.interface.get_ref()) else {
            let mut e = PartyError::new(
                "soiree::party::interface",
                format!("unknown powerbox interface `{}`", spec.interface.get_ref()),
            )
            .at_span(
                file,
                spec.interface.span(),
                "not an interface soiree-pack can request",
            );
            e = match closest(spec.interface.get_ref(), Interface::NAMES) {
                Some(m) => e.help(format!("did you mean `{m}`?")),
                None => e.help(format!("interfaces: {}", Interface::NAMES.join(", "))),
            };
            problems.push(e);
            continue;
        };
        let canonical_url = spec.canonical_url.as_ref().map(|u| {
            let url = params::substitute(u.get_ref(), p).unwrap_or_else(|n| {
                problems.push(unknown_param(file, u.span(), &n));
                String::new()
            });
            if let Some(problem) = vocab::url_problem(&url) {
                problems.push(
                    PartyError::new("soiree::party::url", "canonical-url is not a usable URL").at_span(
                        file,
                        u.span(),
                        problem,
                    ),
                );
            }
            url
        });
        if interface != Interface::ApiSession && canonical_url.is_some() {
            problems.push(
                PartyError::new(
                    "soiree::party::request",
                    "only api-session requests take a canonical-url",
                )
                .at_span(file, r.span(), "this request"),
            );
        }
        let tls =
            match (&spec.encryption, interface) {
                (None, _) => None,
                (Some(e), Interface::IpNetwork) => match e.get_ref().as_str() {
                    "none" => Some(false),
                    "tls" => Some(true),
                    _ => {
                        problems.push(
                            PartyError::new("soiree::party::request", "encryption is `none` or `tls`")
                                .at_span(file, e.span(), "here"),
                        );
                        None
                    }
                },
                (Some(e), _) => {
                    problems.push(
                        PartyError::new(
                            "soiree::party::request",
                            "only ip-network requests take `encryption`",
                        )
                        .at_span(file, e.span(), "here"),
                    );
                    None
                }
            };
        let sub = |s: &S<String>, problems: &mut Problems| {
            params::substitute(s.get_ref(), p)
                .map_err(|u| problems.push(unknown_param(file, s.span(), &u)))
                .unwrap_or_default()
        };
        let local = local_api(spec, interface, file, p, problems);
        if let (Some(l), Some(span)) = (&local, spec.local_port.as_ref().map(|p| p.span())) {
            let mut users: Vec<String> = taken
                .iter()
                .filter(|(port, _)| *port == l.port)
                .map(|(_, who)| who.clone())
                .collect();
            if l.port == soiree_grain::config::LINKS_PORT {
                users.push("the grain's link service".into());
            }
            users.extend(
                out.iter()
                    .filter(|r| r.local.as_ref().is_some_and(|o| o.port == l.port))
                    .map(|r| format!("request `{}`", r.name)),
            );
            if !users.is_empty() {
                problems.push(
                    PartyError::new(
                        "soiree::party::request",
                        format!("port {} is taken by {}", l.port, users.join(", ")),
                    )
                    .at_span(
                        file,
                        span,
                        "the grain's forwarder for this request listens here",
                    ),
                );
            }
        }
        // A recipe that declares a request names it after one of its parameters.
        let name = sub(&spec.name, problems);
        if !soiree_grain::config::is_request_name(&name) {
            problems.push(
                PartyError::new(
                    "soiree::party::request",
                    format!("`{name}` is not a request name"),
                )
                .at_span(
                    file,
                    spec.name.span(),
                    "letters, digits, `-` and `_`: it names a file and a URL path",
                ),
            );
            continue;
        }
        if out.iter().any(|x| x.name == name) {
            problems.push(
                PartyError::new(
                    "soiree::party::request",
                    format!("the request `{name}` is declared twice"),
                )
                .at_span(file, spec.name.span(), "again here"),
            );
            continue;
        }
        out.push(Request {
            name,
            interface,
            canonical_url,
            tls,
            label: spec.label.clone(),
            local,
            origin: Origin {
                via: via.clone(),
                place: Place::new(
                    file,
                    spec.local_port
                        .as_ref()
                        .map_or_else(|| spec.name.span(), |p| p.span()),
                ),
            },
        });
    }
    out
}

/// `local-port` and `local-path`: only for api-session requests, a port, a path in `/…/`.
fn local_api(
    spec: &RequestSpec,
    interface: Interface,
    file: &SourceFile,
    p: &Params,
    problems: &mut Problems,
) -> Option<LocalApi> {
    let Some(port) = &spec.local_port else {
        if let Some(path) = &spec.local_path {
            problems.push(
                PartyError::new("soiree::party::request", "local-path goes with local-port").at_span(
                    file,
                    path.span(),
                    "reached where?",
                ),
            );
        }
        return None;
    };
    if interface != Interface::ApiSession {
        problems.push(
            PartyError::new(
                "soiree::party::request",
                "only api-session requests take a local-port",
            )
            .at_span(file, port.span(), "the grain forwards HTTP APIs only"),
        );
        return None;
    }
    let port = match params::substitute_value(port.get_ref(), p) {
        Ok(v) => crate::services::port(&v, file, port.span(), problems)?,
        Err(u) => {
            problems.push(unknown_param(file, port.span(), &u));
            return None;
        }
    };
    let path =
        match &spec.local_path {
            None => "/".to_string(),
            Some(s) => {
                let path = params::substitute(s.get_ref(), p).unwrap_or_else(|u| {
                    problems.push(unknown_param(file, s.span(), &u));
                    "/".into()
                });
                if !path.starts_with('/') || !path.ends_with('/') {
                    problems.push(
                        PartyError::new("soiree::party::request", "local-path starts and ends with `/`")
                            .at_span(file, s.span(), "for example \"/api/v1/\""),
                    );
                    return None;
                }
                path
            }
        };
    Some(LocalApi { port, path })
}
