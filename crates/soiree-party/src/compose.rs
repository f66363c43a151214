//! Composing a package from the recipes it uses: binding parameters, expanding includes
//! depth-first (each distinct use once), and merging files, services, environment, bridge
//! settings and powerbox declarations. Conflicts and cycles are errors that show both places.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::diagnostic::{closest, PartyError, Place, Problems, SourceFile};
use crate::load::{categories, parse, read_file};
use crate::model::*;
use crate::params::{self, Params};
use crate::schema::{BridgeSpec, OfferSpec, PackageSpec, RecipeFile, RecipeUse, RequestSpec, S};
use crate::vocab;

struct Recipe {
    file: SourceFile,
    spec: RecipeFile,
}

pub(crate) struct Composer<'a> {
    recipes_dir: PathBuf,
    party_file: &'a SourceFile,
    sources: &'a BTreeMap<String, SourceDef>,
    meta: &'a Meta,
    cache: HashMap<String, Option<Rc<Recipe>>>,
}

/// What one package accumulates while its recipes are expanded.
#[derive(Default)]
struct Acc {
    recipes: Vec<String>,
    seen: Vec<String>,
    files: Vec<FileMapping>,
    services: BTreeMap<String, Service>,
    env: BTreeMap<String, (String, Origin)>,
    bridges: Vec<(BridgeSpec, SourceFile, Params, String)>,
    offers: Vec<(S<OfferSpec>, SourceFile, Params, String)>,
    requests: Vec<(S<RequestSpec>, SourceFile, Params, String)>,
    deps: Deps,
}

fn conflict(code: &'static str, message: String, here: Origin, there: &Origin) -> PartyError {
    PartyError::new(code, message)
        .at(here.place, format!("from {}", here.via))
        .related(
            PartyError::new(code, "the other definition is here")
                .at(there.place.clone(), format!("from {}", there.via)),
        )
}

impl<'a> Composer<'a> {
    pub fn new(
        root: &Path,
        party_file: &'a SourceFile,
        sources: &'a BTreeMap<String, SourceDef>,
        meta: &'a Meta,
    ) -> Self {
        Composer {
            recipes_dir: root.join("recipes"),
            party_file,
            sources,
            meta,
            cache: HashMap::new(),
        }
    }

    fn available(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.recipes_dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| {
                        e.file_name()
                            .to_str()
                            .and_then(|n| n.strip_suffix(".toml"))
                            .map(String::from)
                    })
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    fn recipe(&mut self, name: &str, problems: &mut Problems) -> Option<Rc<Recipe>> {
        if let Some(r) = self.cache.get(name) {
            return r.clone();
        }
        let path = self.recipes_dir.join(format!("{name}.toml"));
        let loaded = read_file(&path, format!("recipes/{name}.toml")).and_then(|file| {
            parse::<RecipeFile>(&file, "recipes.md").map(|spec| Rc::new(Recipe { file, spec }))
        });
        let r = match loaded {
            Ok(r) => Some(r),
            Err(e) if path.exists() => {
                problems.push(e);
                None
            }
            Err(_) => None,
        };
        self.cache.insert(name.to_string(), r.clone());
        r
    }

    pub fn package(&mut self, name: &str, spec: &S<PackageSpec>, problems: &mut Problems) -> Option<Package> {
        let file = self.party_file;
        let before = problems.len();
        if !vocab::valid_name(name) {
            problems.push(
                PartyError::new("soiree::party::name", format!("`{name}` is not a package name"))
                    .at_span(file, spec.span(), vocab::NAME_RULE)
                    .help("it names the output file: dist/<name>.spk"),
            );
        }
        let pkg = spec.get_ref();
        let app_id = pkg
            .app_id
            .as_ref()
            .and_then(|id| match id.get_ref().parse::<soiree_spk::AppId>() {
                Ok(a) => Some(a),
                Err(e) => {
                    problems.push(
                        PartyError::new(
                            "soiree::party::app_id",
                            format!("package `{name}`: malformed app id"),
                        )
                        .at_span(file, id.span(), e.to_string())
                        .help("an app id is the 52-character key `soiree-pack keygen` prints"),
                    );
                    None
                }
            });
        let mut acc = Acc::default();
        for u in &pkg.recipes {
            let mut chain = Vec::new();
            self.use_recipe(
                u,
                file,
                &Params::new(),
                "party.toml",
                &mut chain,
                &mut acc,
                problems,
            );
        }
        let party_params = Params::new();
        if let Some(b) = &pkg.bridge {
            acc.bridges.push((
                b.get_ref().clone(),
                file.clone(),
                party_params.clone(),
                "party.toml".into(),
            ));
        }
        for o in &pkg.offers {
            acc.offers
                .push((o.clone(), file.clone(), party_params.clone(), "party.toml".into()));
        }
        for r in &pkg.requests {
            acc.requests
                .push((r.clone(), file.clone(), party_params.clone(), "party.toml".into()));
        }
        if let Some(d) = &pkg.deps {
            crate::deps::add(d, file, &party_params, "party.toml", &mut acc.deps, problems);
        }
        check_services(&acc.services, problems);
        let bridge = bridge(&acc.bridges, problems);
        if bridge.is_some() && !acc.files.iter().any(|f| f.to == "/sandstorm-http-bridge") {
            problems.push(
                PartyError::new(
                    "soiree::party::bridge_binary",
                    format!("package `{name}` has a bridge but nothing puts /sandstorm-http-bridge in it"),
                )
                .at_span(file, spec.span(), "the manifest runs /sandstorm-http-bridge")
                .help("use the `sandstorm-http-bridge` recipe, which takes it from a Sandstorm bundle"),
            );
        }
        let offers = offers(&acc.offers, bridge.as_ref(), name, file, spec, problems);
        let requests = requests(&acc.requests, problems);

        let mut meta = self.meta.clone();
        if let Some(v) = &pkg.marketing_version {
            meta.marketing_version = v.get_ref().clone();
        }
        if let Some(v) = &pkg.short_description {
            meta.short_description = Some(v.get_ref().clone());
        }
        if let Some(v) = &pkg.description {
            meta.description = Some(v.get_ref().clone());
        }
        if let Some(c) = &pkg.categories {
            meta.categories = categories(c, file, problems);
        }
        if problems.len() > before {
            return None;
        }
        Some(Package {
            name: name.to_string(),
            title: pkg.title.get_ref().clone(),
            app_id,
            meta,
            recipes: acc.recipes,
            files: acc.files,
            services: acc.services.into_values().collect(),
            env: acc.env.into_iter().map(|(k, (v, _))| (k, v)).collect(),
            bridge,
            offers,
            requests,
            deps: acc.deps,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn use_recipe(
        &mut self,
        u: &S<RecipeUse>,
        use_file: &SourceFile,
        caller: &Params,
        via: &str,
        chain: &mut Vec<(String, Place)>,
        acc: &mut Acc,
        problems: &mut Problems,
    ) {
        let name = u.get_ref().recipe.get_ref().clone();
        let use_place = Place::new(use_file, u.get_ref().recipe.span());
        if !vocab::valid_name(&name) {
            problems.push(
                PartyError::new("soiree::recipe::name", format!("`{name}` is not a recipe name"))
                    .at(use_place, vocab::NAME_RULE)
                    .help("a recipe is the file recipes/<name>.toml"),
            );
            return;
        }
        let Some(recipe) = self.recipe(&name, problems) else {
            if self.recipes_dir.join(format!("{name}.toml")).exists() {
                return; // its parse error is already reported
            }
            let available = self.available();
            let mut e = PartyError::new("soiree::recipe::missing", format!("no recipe named `{name}`"))
                .at(use_place, format!("there is no recipes/{name}.toml"));
            e = match closest(&name, available.iter().map(String::as_str)) {
                Some(m) => e.help(format!("did you mean `{m}`?")),
                None => e.help(format!("recipes: {}", available.join(", "))),
            };
            problems.push(e);
            return;
        };
        if let Some(pos) = chain.iter().position(|(n, _)| *n == name) {
            let cycle: Vec<&str> = chain[pos..]
                .iter()
                .map(|(n, _)| n.as_str())
                .chain([name.as_str()])
                .collect();
            problems.push(
                PartyError::new(
                    "soiree::recipe::cycle",
                    format!("recipes include each other: {}", cycle.join(" → ")),
                )
                .at(use_place, format!("`{name}` is included again here"))
                .related(
                    PartyError::new("soiree::recipe::cycle", format!("`{name}` was first used here"))
                        .at(chain[pos].1.clone(), "first use"),
                ),
            );
            return;
        }
        let Some(bound) = bind(&recipe, u, use_file, caller, problems) else {
            return;
        };
        let key = format!("{name}{:?}", bound);
        if acc.seen.contains(&key) {
            return;
        }
        acc.seen.push(key);
        let via = if via == "party.toml" {
            name.clone()
        } else {
            format!("{via} → {name}")
        };
        chain.push((name.clone(), use_place));
        for inc in &recipe.spec.include {
            self.use_recipe(inc, &recipe.file, &bound, &via, chain, acc, problems);
        }
        chain.pop();
        acc.recipes.push(name.clone());
        self.contribute(&recipe, &bound, &via, acc, problems);
    }

    fn contribute(&self, recipe: &Recipe, p: &Params, via: &str, acc: &mut Acc, problems: &mut Problems) {
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
            if let Some(service) = service(name, s, file, p, via, problems) {
                if let Some(old) = acc.services.get(&service.name) {
                    problems.push(conflict(
                        "soiree::recipe::service_conflict",
                        format!("two recipes define the service `{}`", service.name),
                        service.origin.clone(),
                        &old.origin,
                    ));
                    continue;
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
    }
}

pub(crate) fn unknown_param(file: &SourceFile, span: std::ops::Range<usize>, name: &str) -> PartyError {
    PartyError::new(
        "soiree::recipe::template",
        format!("`{{{{{name}}}}}` names no parameter of this recipe"),
    )
    .at_span(file, span, "in this template")
    .help("declare it under [params], or fix the name")
}

/// Binds a use's `with` values (substituted with the caller's parameters) and the defaults.
fn bind(
    recipe: &Recipe,
    u: &S<RecipeUse>,
    use_file: &SourceFile,
    caller: &Params,
    problems: &mut Problems,
) -> Option<Params> {
    let mut bound = Params::new();
    let mut ok = true;
    let declared = &recipe.spec.params;
    let name = u.get_ref().recipe.get_ref();
    for (k, v) in &u.get_ref().with {
        let Some(spec) = declared
            .iter()
            .find(|(d, _)| d.get_ref() == k.get_ref())
            .map(|(_, s)| s)
        else {
            let mut e = PartyError::new(
                "soiree::recipe::param",
                format!("recipe `{name}` has no parameter `{}`", k.get_ref()),
            )
            .at_span(use_file, k.span(), "unknown parameter");
            let names: Vec<&str> = declared.keys().map(|d| d.get_ref().as_str()).collect();
            e = match closest(k.get_ref(), names.iter().copied()) {
                Some(m) => e.help(format!("did you mean `{m}`?")),
                None => e.help(format!(
                    "its parameters: {}",
                    if names.is_empty() {
                        "(none)".into()
                    } else {
                        names.join(", ")
                    }
                )),
            };
            problems.push(e);
            ok = false;
            continue;
        };
        let value = match params::substitute_value(v.get_ref(), caller) {
            Ok(v) => v,
            Err(unknown) => {
                problems.push(unknown_param(use_file, v.span(), &unknown));
                ok = false;
                continue;
            }
        };
        let kind = *spec.get_ref().kind.get_ref();
        if !params::matches(kind, &value) {
            problems.push(
                PartyError::new(
                    "soiree::recipe::param_type",
                    format!(
                        "parameter `{}` of `{name}` is {}, not {}",
                        k.get_ref(),
                        params::kind_name(kind),
                        params::type_name(&value)
                    ),
                )
                .at_span(
                    use_file,
                    v.span(),
                    format!("expected {}", params::kind_name(kind)),
                )
                .related(
                    PartyError::new("soiree::recipe::param_type", "declared here").at_span(
                        &recipe.file,
                        spec.span(),
                        "declaration",
                    ),
                ),
            );
            ok = false;
            continue;
        }
        bound.insert(k.get_ref().clone(), value);
    }
    for (k, spec) in declared {
        if bound.contains_key(k.get_ref()) || u.get_ref().with.keys().any(|w| w.get_ref() == k.get_ref()) {
            continue;
        }
        match &spec.get_ref().default {
            Some(d) => {
                let kind = *spec.get_ref().kind.get_ref();
                if !params::matches(kind, d.get_ref()) {
                    problems.push(
                        PartyError::new(
                            "soiree::recipe::param_type",
                            format!(
                                "the default of `{}` is {}, but the parameter is {}",
                                k.get_ref(),
                                params::type_name(d.get_ref()),
                                params::kind_name(kind)
                            ),
                        )
                        .at_span(
                            &recipe.file,
                            d.span(),
                            format!("expected {}", params::kind_name(kind)),
                        ),
                    );
                    ok = false;
                    continue;
                }
                bound.insert(k.get_ref().clone(), d.get_ref().clone());
            }
            None => {
                let what = spec.get_ref().description.clone().unwrap_or_default();
                problems.push(
                    PartyError::new(
                        "soiree::recipe::param_missing",
                        format!("recipe `{name}` needs the parameter `{}`", k.get_ref()),
                    )
                    .at_span(use_file, u.span(), "in this use")
                    .help(format!(
                        "add it: {{ use = \"{name}\", with = {{ {} = … }} }}{}",
                        k.get_ref(),
                        if what.is_empty() {
                            String::new()
                        } else {
                            format!(" ({what})")
                        }
                    )),
                );
                ok = false;
            }
        }
    }
    ok.then_some(bound)
}

fn port(
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

fn service(
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
fn secrets(
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
fn check_services(services: &BTreeMap<String, Service>, problems: &mut Problems) {
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
    // Depth-first search with colours; a grey node reached again closes a cycle.
    fn visit<'s>(
        name: &'s str,
        services: &'s BTreeMap<String, Service>,
        state: &mut HashMap<&'s str, bool>,
        path: &mut Vec<&'s str>,
    ) -> Option<Vec<&'s str>> {
        match state.get(name) {
            Some(true) => return None,
            Some(false) => {
                let start = path.iter().position(|n| *n == name).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(name);
                return Some(cycle);
            }
            None => {}
        }
        state.insert(name, false);
        path.push(name);
        if let Some(s) = services.get(name) {
            for a in &s.after {
                if services.contains_key(a) {
                    if let Some(c) = visit(a, services, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(name, true);
        None
    }
    let mut state = HashMap::new();
    for name in services.keys() {
        if let Some(cycle) = visit(name, services, &mut state, &mut Vec::new()) {
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
            return;
        }
    }
}

fn bridge(specs: &[(BridgeSpec, SourceFile, Params, String)], problems: &mut Problems) -> Option<Bridge> {
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
                    if let Some(n) = port(&val, file, v.span(), problems) {
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

fn unknown_permission(file: &SourceFile, name: &S<String>, perms: &[Permission]) -> PartyError {
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

fn offers(
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
                None => problems.push(unknown_permission(file, name, perms)),
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

fn requests(specs: &[(S<RequestSpec>, SourceFile, Params, String)], problems: &mut Problems) -> Vec<Request> {
    let mut out: Vec<Request> = Vec::new();
    for (r, file, p, _) in specs {
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
        let name = spec.name.get_ref().clone();
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
        });
    }
    out
}
