//! Why each path is in a package: the recipe mapping or template that placed it, soiree-pack
//! itself, or the run-time closure of one of its programs (whose chain `Closure::why` gives).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use soiree_party::Origin;

/// Who put one path into a package.
#[derive(Debug, Clone)]
pub enum Placed {
    /// A recipe's `[[files]]` mapping, from `path` inside `source`.
    Source {
        origin: Origin,
        source: String,
        path: PathBuf,
        /// The command that produced the source, for a source built by a command.
        built_by: Option<String>,
    },
    /// A recipe's `content` template.
    Template { origin: Origin },
    /// A recipe's `[[listings]]` page of the files under `dir`.
    Listing { origin: Origin, dir: String },
    /// soiree-pack itself: the manifest, the bridge config, services.json, mount points…
    Generated,
    /// A program of the package needs it at run time; it comes from the closure's root.
    Closure,
    /// A directory nobody placed itself: it holds other entries.
    Directory,
}

/// The placement of every path that was placed on purpose (parent directories aside).
pub type Provenance = BTreeMap<PathBuf, Placed>;

impl Placed {
    /// The recipe origin, for placements a recipe made.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Placed::Source { origin, .. } | Placed::Template { origin } | Placed::Listing { origin, .. } => {
                Some(origin)
            }
            _ => None,
        }
    }

    /// "recipe uro → redis (recipes/redis.toml:11:6), from source `redis` usr/bin/redis-server".
    pub fn describe(&self) -> String {
        match self {
            Placed::Source {
                origin,
                source,
                path,
                built_by,
            } => {
                let inside = if path.as_os_str().is_empty() {
                    String::new()
                } else {
                    format!(" {}", path.display())
                };
                let built = built_by
                    .as_ref()
                    .map(|c| format!(", built by `{c}`"))
                    .unwrap_or_default();
                format!(
                    "recipe {} ({}), from source `{source}`{inside}{built}",
                    origin.via,
                    at(origin)
                )
            }
            Placed::Template { origin } => format!("recipe {} ({}), a template", origin.via, at(origin)),
            Placed::Listing { origin, dir } => format!(
                "recipe {} ({}), a listing of the files under {dir}",
                origin.via,
                at(origin)
            ),
            Placed::Generated => "soiree-pack itself".into(),
            Placed::Closure => "the run-time closure of a program of the package".into(),
            Placed::Directory => "a directory on the way to other entries".into(),
        }
    }

    /// A one-word kind, for JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Placed::Source { .. } => "source",
            Placed::Template { .. } => "template",
            Placed::Listing { .. } => "listing",
            Placed::Generated => "soiree-pack",
            Placed::Closure => "closure",
            Placed::Directory => "directory",
        }
    }
}

/// `file:line:col` of an origin.
pub fn at(origin: &Origin) -> String {
    let text = &origin.place.file.text;
    let start = origin.place.span.start.min(text.len());
    let before = text.get(..start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    format!("{}:{line}:{col}", origin.place.file.name)
}

/// The placement of `path` in `provenance`, or what it is when nobody placed it by name.
pub fn placed(provenance: &Provenance, path: &Path, is_dir: bool) -> Placed {
    match provenance.get(path) {
        Some(p) => p.clone(),
        None if is_dir => Placed::Directory,
        None => Placed::Generated,
    }
}
