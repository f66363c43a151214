//! The package's HTTP bridge settings, merged from its recipes and `party.toml`: the port, the
//! API path, permissions and roles, each checked.

use crate::diagnostic::{closest, conflict, unknown_param, PartyError, Place, Problems, SourceFile};
use crate::model::*;
use crate::params::{self, Params};
use crate::schema::{BridgeSpec, S};

pub(crate) fn bridge(
    specs: &[(BridgeSpec, SourceFile, Params, String)],
    problems: &mut Problems,
) -> Option<Bridge> {
    if specs.is_empty() {
        return None;
    }
    let mut port_found: Option<(u16, Origin)> = None;
    let mut api_path: Option<String> = None;
    let mut save = false;
    let mut permissions: Vec<(Permission, Origin)> = Vec::new();
    let mut roles_specs = Vec::new();
    for (b, file, p, via) in specs {
        let origin = |span| Origin {
            via: via.clone(),
            place: Place::new(file, span),
        };
        if let Some(v) = &b.port {
            match params::substitute_value(v.get_ref(), p) {
                Ok(val) => {
                    if let Some(n) = crate::services::port(&val, file, v.span(), problems) {
                        match &port_found {
                            Some((old, o)) if *old != n => problems.push(conflict(
                                "soiree::recipe::bridge_port",
                                format!("the bridge port is set to both {old} and {n}"),
                                origin(v.span()),
                                o,
                            )),
                            _ => port_found = Some((n, origin(v.span()))),
                        }
                    }
                }
                Err(u) => problems.push(unknown_param(file, v.span(), &u)),
            }
        }
        if let Some(a) = &b.api_path {
            if !a.get_ref().ends_with('/') {
                problems.push(
                    PartyError::new("soiree::party::api_path", "api-path must end with `/`").at_span(
                        file,
                        a.span(),
                        "Sandstorm requires a trailing slash",
                    ),
                );
            }
            api_path = Some(a.get_ref().clone());
        }
        save |= b.save_identity_caps.unwrap_or(false);
        for perm in &b.permissions {
            let o = origin(perm.span());
            let perm = perm.get_ref();
            if let Some((_, old)) = permissions.iter().find(|(x, _)| x.name == *perm.name.get_ref()) {
                problems.push(conflict(
                    "soiree::party::permission",
                    format!("permission `{}` is declared twice", perm.name.get_ref()),
                    o,
                    old,
                ));
                continue;
            }
            permissions.push((
                Permission {
                    name: perm.name.get_ref().clone(),
                    title: perm.title.clone(),
                    description: perm.description.clone(),
                },
                o,
            ));
        }
        for r in &b.roles {
            roles_specs.push((r.clone(), file.clone()));
        }
    }
    let Some((port_number, _)) = port_found else {
        let (_, file, _, _) = &specs[0];
        problems.push(
            PartyError::new("soiree::party::bridge_port", "the bridge has no port")
                .at_span(file, 0..0, "no recipe or package sets bridge.port")
                .help("use the `sandstorm-http-bridge` recipe, or set [packages.NAME.bridge] port = 8000"),
        );
        return None;
    };
    let perms: Vec<Permission> = permissions.into_iter().map(|(p, _)| p).collect();
    let mut roles = Vec::new();
    for (r, file) in roles_specs {
        let spec = r.get_ref();
        let mut idx = Vec::new();
        for name in &spec.permissions {
            match perms.iter().position(|p| p.name == *name.get_ref()) {
                Some(i) => idx.push(i),
                None => problems.push(unknown_permission(&file, name, &perms)),
            }
        }
        roles.push(Role {
            title: spec.title.get_ref().clone(),
            verb_phrase: spec.verb_phrase.clone(),
            description: spec.description.clone(),
            permissions: idx,
            default: spec.default,
        });
    }
    Some(Bridge {
        port: port_number,
        api_path,
        save_identity_caps: save,
        permissions: perms,
        roles,
    })
}

pub(crate) fn unknown_permission(file: &SourceFile, name: &S<String>, perms: &[Permission]) -> PartyError {
    let mut e = PartyError::new(
        "soiree::party::permission",
        format!("no permission named `{}`", name.get_ref()),
    )
    .at_span(file, name.span(), "not declared in bridge.permissions");
    if let Some(m) = closest(name.get_ref(), perms.iter().map(|p| p.name.as_str())) {
        e = e.help(format!("did you mean `{m}`?"));
    }
    e
}
