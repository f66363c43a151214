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

/// Package and recipe names: lowercase letters, digits and dashes, starting with a letter.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Why an in-package path is unusable, if it is: it must be absolute and normalised.
pub fn package_path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("in-package paths start with `/`");
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
