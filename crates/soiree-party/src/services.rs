//! A recipe's services: ports, commands, readiness, secrets; and the package's services checked
//! together (every `after` known, no cycle).

use std::collections::BTreeMap;

use crate::diagnostic::{closest, unknown_param, PartyError, Place, Problems, SourceFile};
use crate::model::*;
use crate::params::{self, Params};
use crate::schema::S;

pub(crate) fn port(
    v: &toml::Value,
    file: &SourceFile,
    span: std::ops::Range<usize>,
    problems: &mut Problems,
) -> Option<u16> {
    match v {
        toml::Value::Integer(n) if (1..=65535).contains(n) => Some(*n as u16),
        toml::Value::String(s) if s.parse::<u16>().is_ok_and(|n| n > 0) => s.parse().ok(),
        other => {
            problems.push(
                PartyError::new("soiree::recipe::port", format!("{} is not a port number", other)).at_span(
                    file,
                    span,
                    "a port is an integer from 1 to 65535",
                ),
            );
            None
        }
    }
}

pub(crate) fn service(
    name: &S<String>,
    s: &S<crate::schema::ServiceSpec>,
    file: &SourceFile,
    p: &Params,
    via: &str,
    problems: &mut Problems,
) -> Option<Service> {
    let spec = s.get_ref();
    let before = problems.len();
    let sub = |t: &str, span: std::ops::Range<usize>, problems: &mut Problems| {
        params::substitute(t, p)
            .map_err(|u| problems.push(unknown_param(file, span, &u)))
            .unwrap_or_default()
    };
    // An item that is exactly `{{list}}` expands to the list's items, one item each.
    let splice = |items: &mut Vec<String>, a: &str, span: std::ops::Range<usize>, problems: &mut Problems| {
        match params::substitute_value(&toml::Value::String(a.to_string()), p) {
            Ok(toml::Value::Array(list)) => items.extend(
                list.iter()
                    .map(|i| i.as_str().map(String::from).unwrap_or_else(|| i.to_string())),
            ),
            Ok(toml::Value::String(s)) => items.push(s),
            Ok(other) => items.push(other.to_string()),
            Err(u) => problems.push(unknown_param(file, span, &u)),
        }
    };
    // First-run and pre-start commands: every argument substituted as text.
    let steps = |list: &[S<Vec<String>>], problems: &mut Problems| -> Vec<Vec<String>> {
        list.iter()
            .map(|c| c.get_ref().iter().map(|a| sub(a, c.span(), problems)).collect())
            .collect()
    };
    let mut command: Vec<String> = Vec::new();
    for a in spec.command.get_ref() {
        splice(&mut command, a, spec.command.span(), problems);
    }
    let mut after: Vec<String> = Vec::new();
    for a in &spec.after {
        splice(&mut after, a.get_ref(), a.span(), problems);
    }
    if command.is_empty() {
        problems.push(
            PartyError::new(
                "soiree::recipe::command",
                format!("service `{}` has an empty command", name.get_ref()),
            )
            .at_span(file, spec.command.span(), "needs at least the program"),
        );
    }
    let mut ports = Vec::new();
    for v in &spec.ports {
        match params::substitute_value(v.get_ref(), p) {
            Ok(val) => ports.extend(port(&val, file, v.span(), problems)),
            Err(u) => problems.push(unknown_param(file, v.span(), &u)),
        }
    }
    let mut udp_ports = Vec::new();
    for v in &spec.udp_ports {
        match params::substitute_value(v.get_ref(), p) {
            Ok(val) => udp_ports.extend(port(&val, file, v.span(), problems)),
            Err(u) => problems.push(unknown_param(file, v.span(), &u)),
        }
    }
    let ready = spec.ready.as_ref().and_then(|r| {
        let rs = r.get_ref();
        let mut kinds = Vec::new();
        if let Some(t) = &rs.tcp {
            match params::substitute_value(t.get_ref(), p) {
                Ok(v) => kinds.extend(port(&v, file, t.span(), problems).map(Ready::Tcp)),
                Err(u) => problems.push(unknown_param(file, t.span(), &u)),
            }
        }
        if let Some(h) = &rs.http {
            kinds.push(Ready::Http(sub(h.get_ref(), h.span(), problems)));
        }
        if let Some(u) = &rs.unix {
            kinds.push(Ready::Unix(sub(u.get_ref(), u.span(), problems)));
        }
        if let Some(f) = &rs.file {
            kinds.push(Ready::File(sub(f.get_ref(), f.span(), problems)));
        }
        if let Some(l) = &rs.log {
            let text = sub(l.get_ref(), l.span(), problems);
            if text.is_empty() || text.contains('\n') {
                problems.push(
                    PartyError::new(
                        "soiree::recipe::ready",
                        "a log readiness check is one line of text",
                    )
                    .at_span(file, l.span(), "empty, or more than one line"),
                );
            }
            kinds.push(Ready::Log(text));
        }
        if kinds.len() != 1 {
            problems.push(
                PartyError::new(
                    "soiree::recipe::ready",
                    "a readiness check is exactly one of tcp, http, unix, file or log",
                )
                .at_span(file, r.span(), "here"),
            );
            return None;
        }
        kinds.pop()
    });
    let service = Service {
        name: sub(name.get_ref(), name.span(), problems),
        command,
        env: spec
            .env
            .iter()
            .map(|(k, v)| (k.clone(), sub(v, s.span(), problems)))
            .collect(),
        workdir: spec
            .workdir
            .as_ref()
            .map(|w| sub(w.get_ref(), w.span(), problems)),
        var_dirs: spec
            .var_dirs
            .iter()
            .map(|d| sub(d.get_ref(), d.span(), problems))
            .collect(),
        ready,
        after,
        ports,
        udp_ports,
        first_run: steps(&spec.first_run, problems),
        pre_start: steps(&spec.pre_start, problems),
        secrets: secrets(spec, file, problems),
        origin: Origin {
            via: via.to_string(),
            place: Place::new(file, name.span()),
        },
    };
    (problems.len() == before).then_some(service)
}

/// A secret is a variable name the service's `env` does not also set, of 16 to 1024 bytes.
pub(crate) fn secrets(
    spec: &crate::schema::ServiceSpec,
    file: &SourceFile,
    problems: &mut Problems,
) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for (name, bytes) in &spec.secrets {
        let n = *bytes.get_ref();
        if !(16..=1024).contains(&n) {
            problems.push(
                PartyError::new(
                    "soiree::recipe::secret",
                    format!("secret `{name}` must be 16 to 1024 random bytes, not {n}"),
                )
                .at_span(file, bytes.span(), "bytes of randomness"),
            );
        } else if spec.env.contains_key(name) {
            problems.push(
                PartyError::new(
                    "soiree::recipe::secret",
                    format!("`{name}` is both a secret and set in the service's env"),
                )
                .at_span(file, bytes.span(), "generated here")
                .help("drop one: a secret's value is generated on the grain's first start"),
            );
        } else {
            out.insert(name.clone(), n);
        }
    }
    out
}

/// Every `after` names a service of the package, and the dependencies have no cycle.
pub(crate) fn check_services(services: &BTreeMap<String, Service>, problems: &mut Problems) {
    for s in services.values() {
        for a in &s.after {
            if !services.contains_key(a) {
                let mut e = PartyError::new(
                    "soiree::recipe::after",
                    format!(
                        "service `{}` starts after `{a}`, which this package does not have",
                        s.name
                    ),
                )
                .at(s.origin.place.clone(), format!("from {}", s.origin.via));
                if let Some(m) = closest(a, services.keys().map(String::as_str)) {
                    e = e.help(format!("did you mean `{m}`?"));
                }
                problems.push(e);
            }
        }
    }
    // The supervisor's own check, so that `check` refuses exactly what a grain would.
    let nodes: Vec<(&str, &[String])> = services
        .values()
        .map(|s| (s.name.as_str(), s.after.as_slice()))
        .collect();
    if let Err(cycle) = soiree_grain::order::dependency_order(&nodes) {
        let first = &services[cycle[0]];
        let second = &services[cycle[1 % cycle.len()]];
        problems.push(
            PartyError::new(
                "soiree::recipe::service_cycle",
                format!("services wait for each other: {}", cycle.join(" → ")),
            )
            .at(
                first.origin.place.clone(),
                format!("`{}` starts after `{}`", first.name, second.name),
            )
            .related(
                PartyError::new(
                    "soiree::recipe::service_cycle",
                    format!("`{}` is defined here", second.name),
                )
                .at(second.origin.place.clone(), format!("from {}", second.origin.via)),
            ),
        );
    }
}
