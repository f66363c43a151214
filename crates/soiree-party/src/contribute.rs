//! A recipe's part of a package: its files, environment, services, bridge settings, Powerbox
//! declarations, `[deps]` and `[[listings]]` added to what the package accumulates, each checked where it is
//! written.

use crate::compose::{Acc, Composer, Recipe};
use crate::diagnostic::{closest, conflict, unknown_param, PartyError, Place, Problems};
use crate::model::*;
use crate::params::{self, Params};
use crate::schema::S;
use crate::vocab;

/// The recipe at the end of a `via` chain (`uro → nginx` → `nginx`).
fn recipe_name(via: &str) -> &str {
    via.rsplit(" → ").next().unwrap_or(via)
}

impl Composer<'_> {
    pub(crate) fn contribute(
        &self,
        recipe: &Recipe,
        p: &Params,
        via: &str,
        acc: &mut Acc,
        problems: &mut Problems,
    ) {
        let file = &recipe.file;
        let origin = |span: std::ops::Range<usize>| Origin {
            via: via.to_string(),
            place: Place::new(file, span),
        };
        let text = |s: &S<String>, problems: &mut Problems| -> Option<String> {
            params::substitute(s.get_ref(), p)
                .map_err(|unknown| problems.push(unknown_param(file, s.span(), &unknown)))
                .ok()
        };
        for f in &recipe.spec.files {
            let spec = f.get_ref();
            let Some(to) = text(&spec.to, problems) else {
                continue;
            };
            if let Some(problem) = vocab::mapping_target_problem(&to) {
                problems.push(
                    PartyError::new(
                        "soiree::recipe::path",
                        format!("bad in-package path `{}`", to.escape_debug()),
                    )
                    .at_span(file, spec.to.span(), problem),
                );
                continue;
            }
            let content = match (&spec.source, &spec.content) {
                (Some(source), None) => {
                    let Some(source_name) = text(source, problems) else {
                        continue;
                    };
                    if !self.sources.contains_key(&source_name) {
                        let mut e = PartyError::new(
                            "soiree::recipe::source",
                            format!("no source named `{source_name}`"),
                        )
                        .at_span(
                            file,
                            source.span(),
                            "not defined in party.toml [sources]",
                        );
                        if let Some(m) = closest(&source_name, self.sources.keys().map(String::as_str)) {
                            e = e.help(format!("did you mean `{m}`?"));
                        }
                        problems.push(e);
                        continue;
                    }
                    let from = match &spec.from {
                        Some(f) => match text(f, problems) {
                            Some(t) => t,
                            None => continue,
                        },
                        None => String::new(),
                    };
                    let globs = |list: &[S<String>], problems: &mut Problems| -> Vec<String> {
                        list.iter().filter_map(|g| text(g, problems)).collect()
                    };
                    FileContent::Source {
                        source: source_name,
                        from,
                        include: globs(&spec.include, problems),
                        exclude: globs(&spec.exclude, problems),
                    }
                }
                (None, Some(content)) => match text(content, problems) {
                    Some(t) => FileContent::Text(t),
                    None => continue,
                },
                _ => {
                    problems.push(
                        PartyError::new(
                            "soiree::recipe::file",
                            "a file needs exactly one of `source` or `content`",
                        )
                        .at_span(file, f.span(), "this entry"),
                    );
                    continue;
                }
            };
            let mapping = FileMapping {
                to,
                content,
                executable: spec.executable,
                origin: origin(spec.to.span()),
            };
            match acc.files.iter().find(|m| m.to == mapping.to) {
                Some(old) if old.content == mapping.content && old.executable == mapping.executable => {}
                Some(old) => problems.push(conflict(
                    "soiree::recipe::file_conflict",
                    format!("two recipes put different content at {}", mapping.to),
                    mapping.origin.clone(),
                    &old.origin,
                )),
                None => acc.files.push(mapping),
            }
        }
        for (k, v) in &recipe.spec.env {
            let Some(value) = text(v, problems) else { continue };
            let o = origin(v.span());
            match acc.env.get(k.get_ref()) {
                Some((old, _)) if *old == value => {}
                Some((_, old_origin)) => problems.push(conflict(
                    "soiree::recipe::env_conflict",
                    format!("two recipes set {} differently", k.get_ref()),
                    o,
                    old_origin,
                )),
                None => {
                    acc.env.insert(k.get_ref().clone(), (value, o));
                }
            }
        }
        for (name, s) in &recipe.spec.services {
            if let Some(service) = crate::services::service(name, s, file, p, via, problems) {
                if let Some(old) = acc.services.get(&service.name) {
                    let same_line = old.origin.place.file.name == service.origin.place.file.name
                        && old.origin.place.span == service.origin.place.span;
                    let uses = (acc.service_uses.get(&service.name), acc.top_use.as_ref());
                    match uses {
                        (Some(first), Some(second)) if same_line => problems.push(
                            PartyError::new(
                                "soiree::recipe::service_conflict",
                                format!(
                                    "recipe `{}` is used twice, and both uses define the service `{}`",
                                    recipe_name(via),
                                    service.name
                                ),
                            )
                            .at(second.clone(), "used again here")
                            .help("with other parameters a recipe defines its services again: use it once, its parameters in one `with`")
                            .related(
                                PartyError::new("soiree::recipe::service_conflict", "first used here")
                                    .at(first.clone(), "first use"),
                            ),
                        ),
                        _ => problems.push(conflict(
                            "soiree::recipe::service_conflict",
                            format!("two recipes define the service `{}`", service.name),
                            service.origin.clone(),
                            &old.origin,
                        )),
                    }
                    continue;
                }
                if let Some(u) = &acc.top_use {
                    acc.service_uses.insert(service.name.clone(), u.clone());
                }
                for port in &service.ports {
                    if let Some(other) = acc.services.values().find(|o| o.ports.contains(port)) {
                        problems.push(conflict(
                            "soiree::recipe::port_conflict",
                            format!(
                                "services `{}` and `{}` both listen on port {port}",
                                service.name, other.name
                            ),
                            service.origin.clone(),
                            &other.origin,
                        ));
                    }
                }
                acc.services.insert(service.name.clone(), service);
            }
        }
        if let Some(b) = &recipe.spec.bridge {
            acc.bridges
                .push((b.get_ref().clone(), file.clone(), p.clone(), via.to_string()));
        }
        for o in &recipe.spec.offers {
            acc.offers
                .push((o.clone(), file.clone(), p.clone(), via.to_string()));
        }
        for r in &recipe.spec.requests {
            acc.requests
                .push((r.clone(), file.clone(), p.clone(), via.to_string()));
        }
        if let Some(d) = &recipe.spec.deps {
            crate::deps::add(d, file, p, via, &mut acc.deps, problems);
        }
        crate::listings::add(&recipe.spec.listings, file, p, via, &mut acc.listings, problems);
    }
}
