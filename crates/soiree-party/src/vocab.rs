//! Sandstorm's names for licenses and categories, and the checks on ids and URLs.

/// OSI license ids and their `OpenSourceLicense` enumerant numbers.
pub const LICENSES: &[(&str, u16)] = &[
    ("MIT", 1),
    ("Apache-2.0", 2),
    ("GPL-3.0", 3),
    ("AGPL-3.0", 4),
    ("BSD-3-Clause", 5),
    ("BSD-2-Clause", 6),
    ("GPL-2.0", 7),
    ("LGPL-2.1", 8),
    ("LGPL-3.0", 9),
    ("ISC", 10),
    ("Artistic-2.0", 11),
    ("Python-2.0", 12),
    ("PHP-3.0", 13),
    ("MPL-2.0", 14),
    ("CDDL-1.0", 15),
    ("EPL-1.0", 16),
    ("CPAL-1.0", 17),
    ("Zlib", 18),
];

/// Category names (as written in `party.toml`) and their `Category` enumerant numbers.
pub const CATEGORIES: &[(&str, u16)] = &[
    ("other", 0),
    ("productivity", 1),
    ("communications", 2),
    ("social", 3),
    ("web-publishing", 4),
    ("office", 5),
    ("developer-tools", 6),
    ("science", 7),
    ("media", 8),
    ("games", 9),
    ("graphics", 10),
];

pub fn license(id: &str) -> Option<u16> {
    LICENSES.iter().find(|(n, _)| *n == id).map(|(_, v)| *v)
}

pub fn category(name: &str) -> Option<u16> {
    CATEGORIES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// Why `text` is not an http(s) URL Sandstorm would accept, if it is not.
pub fn url_problem(text: &str) -> Option<String> {
    match url::Url::parse(text) {
        Ok(u) if u.scheme() != "http" && u.scheme() != "https" => Some(format!(
            "Sandstorm only accepts http:// and https:// URLs, not {}:",
            u.scheme()
        )),
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("the URL has no host".into()),
        Ok(_) => None,
        Err(e) => Some(format!("not a URL: {e}")),
    }
}

/// What [`valid_name`] accepts, as a diagnostic's label says it.
pub const NAME_RULE: &str =
    "names are lowercase letters, digits and dashes, starting with a letter, at most 64 characters";

/// Party, package and recipe names, which become file names (`dist/<package>.spk`,
/// `recipes/<recipe>.toml`, `<party>-<package>.keyring`): lowercase letters, digits and dashes,
/// starting with a letter, at most 64 characters — so never a path, never hidden, never too long
/// for a file system.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Where soiree-pack's own files go inside a package.
pub const SOIREE_DIR: &str = "/opt/soiree";
/// The supervisor that starts a package's services inside the grain.
pub const SUPERVISOR: &str = "/opt/soiree/bin/soiree-grain";
/// soiree-pack's own programs, which recipes map like sources without party.toml defining them:
/// each is a file found beside soiree-pack (as the supervisor is) unless `[sources]` names one.
pub const PROGRAM_SOURCES: &[&str] = &["soiree-relay", "soiree-tunnel"];
/// The services the supervisor runs, written by the plan.
pub const SERVICES_JSON: &str = "/opt/soiree/services.json";
/// The package's powerbox requests, for its web page to pass to `powerboxRequest`.
pub const POWERBOX_JSON: &str = "/opt/soiree/powerbox.json";
/// The package's manifest, which Sandstorm reads.
pub const MANIFEST: &str = "/sandstorm-manifest";
/// The HTTP bridge's configuration, when the package has a bridge.
pub const BRIDGE_CONFIG: &str = "/sandstorm-http-bridge-config";

/// The files the plan writes into every package itself: a recipe may not map anything there.
pub const GENERATED_PATHS: [&str; 5] = [MANIFEST, BRIDGE_CONFIG, SUPERVISOR, SERVICES_JSON, POWERBOX_JSON];

/// Why an in-package path is unusable, if it is: it must be absolute and normalised, and hold no
/// control characters (a NUL cannot be a file name; the others only hide what a path is).
pub fn package_path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("in-package paths start with `/`");
    }
    if path.contains('\0') {
        return Some("in-package paths may not hold a NUL byte");
    }
    if path.chars().any(char::is_control) {
        return Some("in-package paths may not hold control characters");
    }
    if path
        .split('/')
        .skip(1)
        .any(|c| c.is_empty() && path != "/" || c == "." || c == "..")
    {
        return Some("in-package paths may not contain `.`, `..` or empty components");
    }
    None
}

/// Why a recipe's `to` is unusable, if it is: a bad path, or one of the files soiree-pack writes
/// itself (the plan would refuse it at build time; `check` says so first).
pub fn mapping_target_problem(to: &str) -> Option<&'static str> {
    if let Some(p) = package_path_problem(to) {
        return Some(p);
    }
    let generated = GENERATED_PATHS
        .iter()
        .any(|g| to == *g || to.strip_prefix(g).is_some_and(|rest| rest.starts_with('/')));
    generated.then_some("soiree-pack writes this file itself (manifest, bridge config, supervisor, services)")
}
