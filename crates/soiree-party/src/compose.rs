//! Composing a package from the recipes it uses: expanding includes depth-first (each distinct
//! use once, a cycle shown along its chain) and then checking what they contributed together.
//! Each recipe's contribution is in `contribute.rs`; services, bridge and Powerbox checks in their
//! own files.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::diagnostic::{closest, PartyError, Place, Problems, SourceFile};
use crate::load::{categories, parse, read_file};
use crate::model::*;
use crate::params::{self, Params};
use crate::schema::{BridgeSpec, OfferSpec, PackageSpec, RecipeFile, RecipeUse, RequestSpec, S};
use crate::vocab;

pub(crate) struct Recipe {
    pub(crate) file: SourceFile,
    pub(crate) spec: RecipeFile,
}

pub(crate) struct Composer<'a> {
    pub(crate) recipes_dir: PathBuf,
    pub(crate) party_file: &'a SourceFile,
    pub(crate) sources: &'a BTreeMap<String, SourceDef>,
    pub(crate) meta: &'a Meta,
    pub(crate) cache: HashMap<String, Option<Rc<Recipe>>>,
}

/// What one package accumulates while its recipes are expanded.
#[derive(Default)]
pub(crate) struct Acc {
    pub(crate) recipes: Vec<String>,
    pub(crate) seen: Vec<String>,
    pub(crate) files: Vec<FileMapping>,
    pub(crate) services: BTreeMap<String, Service>,
    pub(crate) env: BTreeMap<String, (String, Origin)>,
    pub(crate) bridges: Vec<(BridgeSpec, SourceFile, Params, String)>,
    pub(crate) offers: Vec<(S<OfferSpec>, SourceFile, Params, String)>,
    pub(crate) requests: Vec<(S<RequestSpec>, SourceFile, Params, String)>,
    pub(crate) deps: Deps,
    pub(crate) listings: Vec<Listing>,
    /// The `{ use = … }` of party.toml being expanded, and for each service the one it came
    /// from: two uses of one recipe that collide are shown at the two uses, not twice at the
    /// recipe.
    pub(crate) top_use: Option<Place>,
    pub(crate) service_uses: BTreeMap<String, Place>,
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
        let loaded = read_file(&path, format!("recipes/{name}.toml"))
            .map_err(|e| vec![e])
            .and_then(|file| {
                parse::<RecipeFile>(&file, "recipes.md").map(|spec| Rc::new(Recipe { file, spec }))
            });
        let r = match loaded {
            Ok(r) => Some(r),
            Err(errors) if path.exists() => {
                for e in errors {
                    problems.push(e);
                }
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
            .and_then(|id| match id.get_ref().parse::<soiree_types::AppId>() {
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
        crate::services::check_services(&acc.services, problems);
        let bridge = crate::bridge::bridge(&acc.bridges, problems);
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
        let offers = crate::powerbox::offers(&acc.offers, bridge.as_ref(), name, file, spec, problems);
        let taken: Vec<(u16, String)> = acc
            .services
            .values()
            .flat_map(|s| s.ports.iter().map(|p| (*p, format!("service `{}`", s.name))))
            .collect();
        let requests = crate::powerbox::requests(&acc.requests, &taken, problems);

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
        if let Some(v) = &pkg.image_size_limit {
            meta.image_size_limit = crate::load::size_limit(v, file, problems);
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
            listings: acc.listings,
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
        let Some(bound) = params::bind(&recipe.file, &recipe.spec, u, use_file, caller, problems) else {
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
        if chain.is_empty() {
            acc.top_use = Some(use_place.clone());
        }
        chain.push((name.clone(), use_place));
        for inc in &recipe.spec.include {
            self.use_recipe(inc, &recipe.file, &bound, &via, chain, acc, problems);
        }
        chain.pop();
        acc.recipes.push(name.clone());
        self.contribute(&recipe, &bound, &via, acc, problems);
    }
}
