//! The shape of `party.toml` and `recipes/*.toml`, as serde reads them. Unknown keys are errors;
//! every value a diagnostic may point at keeps its span.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PartyFile {
    pub party: PartyMeta,
    #[serde(default)]
    pub sources: BTreeMap<String, S<SourceSpec>>,
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileSpec>,
    #[serde(default)]
    pub packages: BTreeMap<String, S<PackageSpec>>,
}

/// Metadata every package of the party shares (each package may override some of it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PartyMeta {
    pub name: S<String>,
    pub app_version: S<u32>,
    pub marketing_version: S<String>,
    pub website: Option<S<String>>,
    pub code_url: Option<S<String>>,
    pub license: Option<S<String>>,
    pub contact_email: Option<S<String>>,
    pub upstream_author: Option<S<String>>,
    #[serde(default)]
    pub categories: Vec<S<String>>,
    pub icon: Option<S<String>>,
    pub short_description: Option<S<String>>,
    pub description: Option<S<String>>,
    /// The most an OCI image of a package may weigh (`build --target oci`), e.g. "512 MiB".
    pub image_size_limit: Option<S<String>>,
}

/// Where a recipe's files come from.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SourceSpec {
    pub path: Option<S<String>>,
    pub url: Option<S<String>>,
    pub sha256: Option<S<String>>,
    pub size: Option<u64>,
    pub strip_components: Option<u32>,
    pub sub_path: Option<S<String>>,
    // ---- a source built by a command (command_source.rs) ----
    pub command: Option<S<Vec<String>>>,
    /// The folder the command runs in (copied first); or `source`, another source's tree.
    pub dir: Option<S<String>>,
    pub source: Option<S<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub output: Option<S<String>>,
    #[serde(default)]
    pub tools: Vec<S<String>>,
    pub network: Option<bool>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileSpec {
    #[serde(default)]
    pub sources: BTreeMap<String, S<SourceSpec>>,
    /// Packages whose recipe list this profile replaces.
    #[serde(default)]
    pub packages: BTreeMap<String, S<ProfilePackage>>,
}

/// `[profiles.NAME.packages.PACKAGE]`: the package's recipes under that profile.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfilePackage {
    pub recipes: Vec<S<RecipeUse>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageSpec {
    pub title: S<String>,
    pub app_id: Option<S<String>>,
    #[serde(default)]
    pub recipes: Vec<S<RecipeUse>>,
    pub marketing_version: Option<S<String>>,
    pub short_description: Option<S<String>>,
    pub description: Option<S<String>>,
    pub categories: Option<Vec<S<String>>>,
    pub bridge: Option<S<BridgeSpec>>,
    #[serde(default)]
    pub offers: Vec<S<OfferSpec>>,
    #[serde(default)]
    pub requests: Vec<S<RequestSpec>>,
    pub deps: Option<DepsSpec>,
    pub image_size_limit: Option<S<String>>,
}

/// `{ use = "nginx", with = { port = 8000 } }`
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RecipeUse {
    #[serde(rename = "use")]
    pub recipe: S<String>,
    #[serde(default)]
    pub with: BTreeMap<S<String>, S<toml::Value>>,
}

#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BridgeSpec {
    pub port: Option<S<toml::Value>>,
    pub api_path: Option<S<String>>,
    pub save_identity_caps: Option<bool>,
    #[serde(default)]
    pub permissions: Vec<S<PermissionSpec>>,
    #[serde(default)]
    pub roles: Vec<S<RoleSpec>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PermissionSpec {
    pub name: S<String>,
    pub title: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RoleSpec {
    pub title: S<String>,
    pub verb_phrase: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<S<String>>,
    #[serde(default)]
    pub default: bool,
}

/// An HTTP API the package exports through the powerbox (`bridgeConfig.powerboxApis`).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OfferSpec {
    pub name: S<String>,
    pub path: S<String>,
    pub canonical_url: S<String>,
    pub title: Option<String>,
    pub verb_phrase: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<S<String>>,
}

/// A capability the package asks the user for through the powerbox.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RequestSpec {
    pub name: S<String>,
    pub interface: S<String>,
    pub canonical_url: Option<S<String>>,
    pub encryption: Option<S<String>>,
    pub label: Option<String>,
    /// For an api-session: the loopback port where the package's programs reach the granted
    /// API (the grain's forwarder), and the path prefix they use there.
    pub local_port: Option<S<toml::Value>>,
    pub local_path: Option<S<String>>,
}

// ---- recipes ----

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RecipeFile {
    pub description: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<S<String>, S<ParamSpec>>,
    #[serde(default)]
    pub include: Vec<S<RecipeUse>>,
    #[serde(default)]
    pub files: Vec<S<FileSpec>>,
    #[serde(default)]
    pub services: BTreeMap<S<String>, S<ServiceSpec>>,
    #[serde(default)]
    pub env: BTreeMap<S<String>, S<String>>,
    pub bridge: Option<S<BridgeSpec>>,
    #[serde(default)]
    pub offers: Vec<S<OfferSpec>>,
    #[serde(default)]
    pub requests: Vec<S<RequestSpec>>,
    pub deps: Option<DepsSpec>,
    #[serde(default)]
    pub listings: Vec<S<ListingSpec>>,
}

/// `[[listings]]`: an HTML page at `to` listing every file under `dir` with its size and SHA-256.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ListingSpec {
    pub dir: S<String>,
    pub to: S<String>,
    pub title: Option<S<String>>,
}

/// How the run-time closure of the package's programs is found: `[deps]` in a recipe,
/// `[packages.NAME.deps]` in `party.toml`.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DepsSpec {
    #[serde(default)]
    pub library_path: Vec<S<String>>,
    #[serde(default)]
    pub path: Vec<S<String>>,
    #[serde(default)]
    pub optional: Vec<S<String>>,
    #[serde(default)]
    pub skip: Vec<S<String>>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ParamType {
    String,
    Integer,
    Boolean,
    List,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ParamSpec {
    #[serde(rename = "type")]
    pub kind: S<ParamType>,
    pub default: Option<S<toml::Value>>,
    pub description: Option<String>,
}

/// Files a recipe puts into the package: from a named source, or generated from a template.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileSpec {
    pub source: Option<S<String>>,
    pub from: Option<S<String>>,
    pub to: S<String>,
    pub content: Option<S<String>>,
    pub executable: Option<bool>,
    #[serde(default)]
    pub include: Vec<S<String>>,
    #[serde(default)]
    pub exclude: Vec<S<String>>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServiceSpec {
    pub command: S<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub workdir: Option<S<String>>,
    #[serde(default)]
    pub var_dirs: Vec<S<String>>,
    pub ready: Option<S<ReadySpec>>,
    #[serde(default)]
    pub after: Vec<S<String>>,
    #[serde(default)]
    pub ports: Vec<S<toml::Value>>,
    /// UDP ports the service listens on (a game server's): published by `run --udp` by hand,
    /// by `build --target compose|helm` from here.
    #[serde(default)]
    pub udp_ports: Vec<S<toml::Value>>,
    #[serde(default)]
    pub first_run: Vec<S<Vec<String>>>,
    /// Commands run before every start of the service by the grain (migrations).
    #[serde(default)]
    pub pre_start: Vec<S<Vec<String>>>,
    /// Environment variables whose values the supervisor generates once (this many random bytes)
    /// and keeps under `/var`.
    #[serde(default)]
    pub secrets: BTreeMap<String, S<u32>>,
}

/// How the supervisor knows a service is up.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReadySpec {
    pub tcp: Option<S<toml::Value>>,
    pub http: Option<S<String>>,
    pub unix: Option<S<String>>,
    pub file: Option<S<String>>,
    /// Ready once the service prints a line containing this text (a UDP server's "listening").
    pub log: Option<S<String>>,
}
