//! The validated party: what each package holds, after recipes are composed and parameters
//! substituted. Everything here has been checked; `Origin`s say where each part came from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use soiree_types::AppId;

use crate::diagnostic::Place;

#[derive(Debug, Clone)]
pub struct Party {
    /// The directory `party.toml` is in; relative paths are resolved against it.
    pub root: PathBuf,
    pub meta: Meta,
    /// Sources by name, with the selected profile's overrides applied.
    pub sources: BTreeMap<String, SourceDef>,
    pub packages: Vec<Package>,
}

#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub name: String,
    pub app_version: u32,
    pub marketing_version: String,
    pub website: Option<String>,
    pub code_url: Option<String>,
    /// Sandstorm's `OpenSourceLicense` enumerant number.
    pub license: Option<u16>,
    pub contact_email: Option<String>,
    pub upstream_author: Option<String>,
    /// Sandstorm's `Category` enumerant numbers.
    pub categories: Vec<u16>,
    pub icon: Option<PathBuf>,
    pub short_description: Option<String>,
    pub description: Option<String>,
    /// `image-size-limit`: the most a package's OCI image may weigh, and where it is set.
    pub image_size_limit: Option<SizeLimit>,
}

/// A size in bytes, with the place in `party.toml` that sets it (an error about it points there).
#[derive(Debug, Clone)]
pub struct SizeLimit {
    pub bytes: u64,
    pub place: Place,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceDef {
    Path {
        path: PathBuf,
        strip_components: u32,
        sub_path: Option<String>,
    },
    Url {
        url: String,
        /// From `party.toml`, or from `party.lock` when `party.toml` leaves it out. `None` only
        /// from [`crate::load_for_lock`].
        sha256: Option<String>,
        size: Option<u64>,
        strip_components: u32,
        sub_path: Option<String>,
    },
    /// The output folder of a command run in a scratch copy of `input`.
    Command(Box<CommandDef>),
}

/// A source built by a command ([`SourceDef::Command`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandDef {
    pub command: Vec<String>,
    pub input: CommandInput,
    pub env: BTreeMap<String, String>,
    /// Relative to the copy of the input.
    pub output: String,
    pub tools: Vec<String>,
    pub network: bool,
    pub exclude: Vec<String>,
    pub sub_path: Option<String>,
}

/// What a command source's command runs in (a copy of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandInput {
    /// A directory, relative paths taken from `party.toml`'s directory.
    Dir(PathBuf),
    /// Another source's tree (an unpacked pinned archive, say).
    Source(String),
}

/// Where a part of a package came from: the recipe (or `party.toml`) and the place in its file.
#[derive(Debug, Clone)]
pub struct Origin {
    /// `party.toml`, or the chain of recipes that led here (`uro → nginx`).
    pub via: String,
    pub place: Place,
}

#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub title: String,
    pub app_id: Option<AppId>,
    /// Party metadata with this package's overrides applied.
    pub meta: Meta,
    /// Recipes in the order they were composed (includes before their includer).
    pub recipes: Vec<String>,
    pub files: Vec<FileMapping>,
    pub services: Vec<Service>,
    pub env: BTreeMap<String, String>,
    pub bridge: Option<Bridge>,
    pub offers: Vec<Offer>,
    pub requests: Vec<Request>,
    /// How the run-time closure of its programs is found.
    pub deps: Deps,
    /// Pages soiree-plan writes that list a folder's files with their sizes and SHA-256.
    pub listings: Vec<Listing>,
}

/// A recipe's `[[listings]]` entry: the page at `to` lists every file under `dir`.
#[derive(Debug, Clone)]
pub struct Listing {
    /// Absolute, normalised in-package folder.
    pub dir: String,
    /// Absolute, normalised in-package path of the page.
    pub to: String,
    pub title: Option<String>,
    pub origin: Origin,
}

/// The `[deps]` of every recipe of a package and of `party.toml`, merged in composition order;
/// a value given twice is kept once, with its first origin.
#[derive(Debug, Clone, Default)]
pub struct Deps {
    /// In-package directories ld.so searches as it searches `LD_LIBRARY_PATH`; `$ORIGIN` is the
    /// program's directory.
    pub library_path: Vec<DepsValue>,
    /// In-package directories where `#!/usr/bin/env NAME` finds NAME, before the package's PATH.
    pub path: Vec<DepsValue>,
    /// Sonames (`DT_NEEDED` names) that may be missing: a warning, not an error.
    pub optional: Vec<DepsValue>,
    /// Globs of in-package paths that are not scanned for programs (files nothing runs in the
    /// grain, such as downloads for players).
    pub skip: Vec<DepsValue>,
}

/// One value of [`Deps`] and where it was declared.
#[derive(Debug, Clone)]
pub struct DepsValue {
    pub value: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContent {
    /// Files from a named source: `from` inside it (a file or a directory), filtered by globs.
    Source {
        source: String,
        from: String,
        include: Vec<String>,
        exclude: Vec<String>,
    },
    /// A file generated from the recipe's template.
    Text(String),
}

#[derive(Debug, Clone)]
pub struct FileMapping {
    /// Absolute, normalised in-package path.
    pub to: String,
    pub content: FileContent,
    pub executable: Option<bool>,
    pub origin: Origin,
}

/// How the supervisor knows a service is up: the supervisor's own type, written to services.json as is.
pub use soiree_grain::config::Ready;

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub workdir: Option<String>,
    pub var_dirs: Vec<String>,
    pub ready: Option<Ready>,
    pub after: Vec<String>,
    pub ports: Vec<u16>,
    /// UDP ports it listens on (not in services.json: the supervisor has nothing to do with them).
    pub udp_ports: Vec<u16>,
    pub first_run: Vec<Vec<String>>,
    pub pre_start: Vec<Vec<String>>,
    /// Generated once per grain: variable name → bytes of randomness.
    pub secrets: BTreeMap<String, u32>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub title: String,
    pub verb_phrase: Option<String>,
    pub description: Option<String>,
    /// Indexes into the bridge's permissions.
    pub permissions: Vec<usize>,
    pub default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bridge {
    pub port: u16,
    pub api_path: Option<String>,
    pub save_identity_caps: bool,
    pub permissions: Vec<Permission>,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub name: String,
    pub path: String,
    pub canonical_url: String,
    pub title: Option<String>,
    pub verb_phrase: Option<String>,
    pub description: Option<String>,
    /// Indexes into the bridge's permissions.
    pub permissions: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    ApiSession,
    IpInterface,
    IpNetwork,
}

impl Interface {
    pub const NAMES: [&'static str; 3] = ["api-session", "ip-interface", "ip-network"];

    pub fn parse(name: &str) -> Option<Interface> {
        match name {
            "api-session" => Some(Interface::ApiSession),
            "ip-interface" => Some(Interface::IpInterface),
            "ip-network" => Some(Interface::IpNetwork),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Interface::ApiSession => "api-session",
            Interface::IpInterface => "ip-interface",
            Interface::IpNetwork => "ip-network",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Request {
    pub name: String,
    pub interface: Interface,
    pub canonical_url: Option<String>,
    /// For `ip-network`: `none` or `tls`.
    pub tls: Option<bool>,
    pub label: Option<String>,
    /// For `api-session`: where the grain's programs reach the granted API.
    pub local: Option<LocalApi>,
    /// Its `local-port` line (else its `name` line), for errors about where it leads.
    pub origin: Origin,
}

/// `127.0.0.1:port` inside the grain, with requests under `path` going to the granted API's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalApi {
    pub port: u16,
    pub path: String,
}
