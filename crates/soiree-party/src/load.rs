//! Reading `party.toml`: metadata, sources and profiles, then each package through the composer.

use std::collections::BTreeMap;
use std::path::Path;

use crate::command_source;
use crate::compose::Composer;
use crate::diagnostic::{closest, PartyError, Problems, SourceFile};
use crate::model::{Meta, Party, SourceDef};
use crate::profile_packages;
use crate::schema::{PartyFile, PartyMeta, SourceSpec, S};
use crate::vocab;

/// Parses one TOML file into `T`, turning syntax and shape errors into a diagnostic.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    file: &SourceFile,
    what: &str,
) -> Result<T, Vec<PartyError>> {
    crate::every_error::from_str(&file.text).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| {
                let message = in_our_words(e.message().trim());
                let span = e.span().unwrap_or(0..0);
                let mut err = PartyError::new("soiree::party::parse", format!("{}: {message}", file.name))
                    .at_span(file, span, "here");
                if message.starts_with("unknown field") {
                    err = err.help(match crate::every_error::unknown_field_near(&message) {
                        Some(near) => {
                            format!("did you mean `{near}`? (docs/{what} lists the keys this file may have)")
                        }
                        None => format!("docs/{what} lists the keys this file may have"),
                    });
                }
                err
            })
            .collect()
    })
}

/// serde's words for TOML's: a TOML file has arrays users call lists, and tables.
fn in_our_words(message: &str) -> String {
    message
        .replace("expected a sequence", "expected a list (`[\"…\", \"…\"]`)")
        .replace("invalid type: sequence", "invalid type: list")
        .replace("expected a map", "expected a table")
        .replace("invalid type: map", "invalid type: table")
        .replace("expected u16", "expected an integer from 0 to 65535")
        .replace("expected u32", "expected a whole number (0 or more)")
        .replace("expected u64", "expected a whole number (0 or more)")
        .replace("expected i64", "expected an integer")
}

pub(crate) fn read_file(path: &Path, name: String) -> Result<SourceFile, PartyError> {
    std::fs::read_to_string(path)
        .map(|text| SourceFile::new(name, text))
        .map_err(|e| {
            PartyError::new(
                crate::diagnostic::IO_CODE,
                format!("cannot read {}: {e}", path.display()),
            )
        })
}

/// Reads and checks a party: `party.toml`, the recipes it uses (from `recipes/` beside it) and
/// the sources of the chosen profile. Every problem found is returned, not just the first.
pub fn load(party_toml: &Path, profile: Option<&str>) -> Result<Party, Problems> {
    load_with(party_toml, None, profile)
}

/// Like [`load`], but with `party.toml`'s text given (an edit not yet written to disk).
pub fn load_with(party_toml: &Path, text: Option<&str>, profile: Option<&str>) -> Result<Party, Problems> {
    load_inner(party_toml, text, profile, Pins::Required)
}

/// Like [`load`], but a URL source that neither `party.toml` nor `party.lock` pins is kept with
/// `sha256: None` instead of being an error: `soiree-pack lock` downloads it and records it.
pub fn load_for_lock(party_toml: &Path, profile: Option<&str>) -> Result<Party, Problems> {
    load_inner(party_toml, None, profile, Pins::MayBeMissing)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pins {
    Required,
    MayBeMissing,
}

fn load_inner(
    party_toml: &Path,
    text: Option<&str>,
    profile: Option<&str>,
    pins: Pins,
) -> Result<Party, Problems> {
    let mut problems = Problems::default();
    let root = soiree_fs::parent_dir(party_toml).to_path_buf();
    let name = party_toml
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let read = match text {
        Some(t) => Ok(SourceFile::new(name, t)),
        None => read_file(party_toml, name),
    };
    let file = match read {
        Ok(f) => f,
        Err(e) => {
            problems.push(e);
            return Err(problems);
        }
    };
    let spec: PartyFile = match parse(&file, "party-toml.md") {
        Ok(s) => s,
        Err(errors) => {
            for e in errors {
                problems.push(e);
            }
            return Err(problems);
        }
    };
    let meta = meta(&spec.party, &file, &root, &mut problems);
    let mut sources = sources(&spec, profile, &file, &root, &mut problems);
    pin_from_lock(&spec, profile, &mut sources, &file, &root, pins, &mut problems);
    // `lock` runs no command, so it needs none of their programs.
    let tools = pins == Pins::Required;
    command_source::check_commands(&spec, profile, &sources, &file, tools, &mut problems);
    let mut composer = Composer::new(&root, &file, &sources, &meta);
    let mut packages = Vec::new();
    profile_packages::check(&spec, &file, &mut problems);
    for (name, pkg) in &spec.packages {
        let pkg = profile_packages::package_spec(&spec, profile, name, pkg);
        if let Some(p) = composer.package(name, &pkg, &mut problems) {
            packages.push(p);
        }
    }
    if spec.packages.is_empty() {
        problems.push(
            PartyError::new("soiree::party::no_packages", "the party has no packages")
                .help("add a table such as [packages.server] with a title and recipes"),
        );
    }
    if problems.is_empty() {
        Ok(Party {
            root,
            meta,
            sources,
            packages,
        })
    } else {
        Err(problems)
    }
}

fn url_field(
    v: &Option<S<String>>,
    what: &str,
    file: &SourceFile,
    problems: &mut Problems,
) -> Option<String> {
    let v = v.as_ref()?;
    if let Some(problem) = vocab::url_problem(v.get_ref()) {
        problems.push(
            PartyError::new("soiree::party::url", format!("{what} is not a usable URL")).at_span(
                file,
                v.span(),
                problem,
            ),
        );
    }
    Some(v.get_ref().clone())
}

pub(crate) fn categories(list: &[S<String>], file: &SourceFile, problems: &mut Problems) -> Vec<u16> {
    let mut out = Vec::new();
    for c in list {
        match vocab::category(c.get_ref()) {
            Some(v) => out.push(v),
            None => {
                let names = vocab::CATEGORIES.iter().map(|(n, _)| *n);
                let mut e = PartyError::new(
                    "soiree::party::category",
                    format!("unknown category `{}`", c.get_ref()),
                )
                .at_span(file, c.span(), "not a Sandstorm category");
                e = match closest(c.get_ref(), names.clone()) {
                    Some(m) => e.help(format!("did you mean `{m}`?")),
                    None => e.help(format!("categories: {}", names.collect::<Vec<_>>().join(", "))),
                };
                problems.push(e);
            }
        }
    }
    out
}

fn meta(m: &PartyMeta, file: &SourceFile, root: &Path, problems: &mut Problems) -> Meta {
    let license = m.license.as_ref().and_then(|l| {
        let found = vocab::license(l.get_ref());
        if found.is_none() {
            let ids = vocab::LICENSES.iter().map(|(n, _)| *n);
            let mut e = PartyError::new(
                "soiree::party::license",
                format!("unknown license `{}`", l.get_ref()),
            )
            .at_span(file, l.span(), "not an OSI license id Sandstorm knows");
            e = match closest(l.get_ref(), ids.clone()) {
                Some(m) => e.help(format!("did you mean `{m}`?")),
                None => e.help(format!("known ids: {}", ids.collect::<Vec<_>>().join(", "))),
            };
            problems.push(e);
        }
        found
    });
    if !vocab::valid_name(m.name.get_ref()) {
        problems.push(
            PartyError::new(
                "soiree::party::name",
                format!("`{}` is not a party name", m.name.get_ref()),
            )
            .at_span(file, m.name.span(), vocab::NAME_RULE)
            .help("it names files: development keys are kept as <party>-<package>.keyring"),
        );
    }
    if m.marketing_version.get_ref().trim().is_empty() {
        problems.push(
            PartyError::new("soiree::party::version", "the marketing version is empty").at_span(
                file,
                m.marketing_version.span(),
                "Sandstorm shows this to users, e.g. \"1.2.0\"",
            ),
        );
    }
    let icon = m.icon.as_ref().map(|i| {
        let path = root.join(i.get_ref());
        if !path.is_file() {
            problems.push(
                PartyError::new(
                    "soiree::party::icon",
                    format!("icon {} does not exist", i.get_ref()),
                )
                .at_span(file, i.span(), "no such file (paths are relative to party.toml)"),
            );
        }
        path
    });
    Meta {
        name: m.name.get_ref().clone(),
        app_version: *m.app_version.get_ref(),
        marketing_version: m.marketing_version.get_ref().clone(),
        website: url_field(&m.website, "website", file, problems),
        code_url: url_field(&m.code_url, "code-url", file, problems),
        license,
        contact_email: m.contact_email.as_ref().map(|e| e.get_ref().clone()),
        upstream_author: m.upstream_author.as_ref().map(|e| e.get_ref().clone()),
        categories: categories(&m.categories, file, problems),
        icon,
        short_description: m.short_description.as_ref().map(|e| e.get_ref().clone()),
        description: m.description.as_ref().map(|e| e.get_ref().clone()),
        image_size_limit: m
            .image_size_limit
            .as_ref()
            .and_then(|v| size_limit(v, file, problems)),
    }
}

/// `image-size-limit = "512 MiB"`: bytes, or a number with B, KiB, MiB, GiB (or kB, MB, GB).
pub(crate) fn size_limit(
    v: &crate::schema::S<String>,
    file: &SourceFile,
    problems: &mut Problems,
) -> Option<crate::model::SizeLimit> {
    let text = v.get_ref().trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale: Option<u64> = match unit.trim() {
        "" | "B" => Some(1),
        "kB" | "KB" => Some(1000),
        "KiB" => Some(1 << 10),
        "MB" => Some(1_000_000),
        "MiB" => Some(1 << 20),
        "GB" => Some(1_000_000_000),
        "GiB" => Some(1 << 30),
        _ => None,
    };
    let bytes = match (number.parse::<f64>(), scale) {
        (Ok(n), Some(scale)) if n.is_finite() && n > 0.0 => Some((n * scale as f64) as u64),
        _ => None,
    };
    match bytes {
        Some(bytes) => Some(crate::model::SizeLimit {
            bytes,
            place: crate::diagnostic::Place::new(file, v.span()),
        }),
        None => {
            problems.push(
                PartyError::new("soiree::party::size", format!("`{text}` is not a size"))
                    .at_span(
                        file,
                        v.span(),
                        "a size such as \"512 MiB\", \"2 GiB\" or \"300000000\"",
                    )
                    .help("units: B, kB, MB, GB, KiB, MiB, GiB"),
            );
            None
        }
    }
}

fn source_def(
    name: &str,
    s: &S<SourceSpec>,
    file: &SourceFile,
    root: &Path,
    problems: &mut Problems,
) -> Option<SourceDef> {
    let spec = s.get_ref();
    let strip = spec.strip_components.unwrap_or(0);
    let sub_path = spec.sub_path.as_ref().map(|p| p.get_ref().clone());
    if spec.command.is_none() {
        command_source::refuse_command_keys(name, s, file, problems);
    }
    match (&spec.path, &spec.url, &spec.command) {
        (None, None, Some(command)) => command_source::command_def(name, s, command, file, root, problems),
        (Some(path), None, None) => Some(SourceDef::Path {
            path: root.join(path.get_ref()),
            strip_components: strip,
            sub_path,
        }),
        (None, Some(url), None) => {
            if let Some(problem) = vocab::url_problem(url.get_ref()) {
                problems.push(
                    PartyError::new(
                        "soiree::party::url",
                        format!("source `{name}` has an unusable URL"),
                    )
                    .at_span(file, url.span(), problem),
                );
            }
            let sha256 = spec.sha256.as_ref().map(|sha| {
                let hex = sha.get_ref();
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    problems.push(
                        PartyError::new(
                            "soiree::party::sha256",
                            format!("source `{name}`: sha256 is not 64 hex digits"),
                        )
                        .at_span(file, sha.span(), "not a sha256"),
                    );
                }
                hex.to_ascii_lowercase()
            });
            Some(SourceDef::Url {
                url: url.get_ref().clone(),
                sha256,
                size: spec.size,
                strip_components: strip,
                sub_path,
            })
        }
        _ => {
            problems.push(
                PartyError::new(
                    "soiree::party::source",
                    format!("source `{name}` needs exactly one of path, url or command"),
                )
                .at_span(
                    file,
                    s.span(),
                    "give `path = \"…\"`, `url = \"…\"` with `sha256`, or `command = [\"…\"]`",
                ),
            );
            None
        }
    }
}

/// Fills in the digest of each URL source that `party.toml` leaves unpinned from `party.lock`
/// (an entry of the same name and URL, recorded by `soiree-pack lock` on first download).
fn pin_from_lock(
    spec: &PartyFile,
    profile: Option<&str>,
    sources: &mut BTreeMap<String, SourceDef>,
    file: &SourceFile,
    root: &Path,
    pins: Pins,
    problems: &mut Problems,
) {
    let unpinned = |def: &SourceDef| matches!(def, SourceDef::Url { sha256: None, .. });
    if !sources.values().any(unpinned) {
        return;
    }
    let lock_path = root.join(soiree_source::LOCK_FILE_NAME);
    let lock = match soiree_source::Lock::load(&lock_path) {
        Ok(lock) => Some(lock),
        Err(e) => {
            problems.push(PartyError::new(
                "soiree::party::lock",
                format!("{}: {e}", lock_path.display()),
            ));
            None
        }
    };
    for (name, def) in sources.iter_mut() {
        let SourceDef::Url { url, sha256, .. } = def else {
            continue;
        };
        if sha256.is_some() {
            continue;
        }
        let locked = lock.as_ref().and_then(|l| l.get(name)).filter(|e| &e.url == url);
        if let Some(entry) = locked {
            *sha256 = Some(entry.sha256.hex());
            continue;
        }
        if pins == Pins::MayBeMissing {
            continue;
        }
        // The profile's entry, when it replaced this source, is the one to point at.
        let spec_entry = profile
            .and_then(|p| spec.profiles.get(p))
            .and_then(|p| p.sources.get(name))
            .or_else(|| spec.sources.get(name));
        let mut err = PartyError::new(
            "soiree::party::sha256",
            format!("source `{name}` has a URL but no sha256, and party.lock does not pin it"),
        )
        .help(format!(
            "add sha256 = \"<64 hex digits>\" (`sha256sum FILE` prints it), or run \
             `soiree-pack lock{}` online: it downloads the file and records its sha256 in \
             party.lock (compare it with the checksum the publisher gives)",
            profile.map(|p| format!(" --profile {p}")).unwrap_or_default()
        ));
        if let Some(s) = spec_entry {
            err = err.at_span(file, s.span(), "downloads are pinned by their sha256");
        }
        problems.push(err);
    }
}

/// One entry of `[profiles.PROFILE.sources]`: it must replace a source `[sources]` defines.
fn profile_source(
    profile: &str,
    name: &str,
    s: &S<SourceSpec>,
    spec: &PartyFile,
    file: &SourceFile,
    root: &Path,
    problems: &mut Problems,
) -> Option<SourceDef> {
    if !spec.sources.contains_key(name) {
        let mut err = PartyError::new(
            "soiree::party::profile",
            format!("profile `{profile}` overrides source `{name}`, which [sources] does not define"),
        )
        .at_span(file, s.span(), "unknown source");
        if let Some(near) = closest(name, spec.sources.keys().map(String::as_str)) {
            err = err.help(format!("did you mean `{near}`?"));
        }
        problems.push(err);
    }
    source_def(name, s, file, root, problems)
}

fn sources(
    spec: &PartyFile,
    profile: Option<&str>,
    file: &SourceFile,
    root: &Path,
    problems: &mut Problems,
) -> BTreeMap<String, SourceDef> {
    let mut out = BTreeMap::new();
    for (name, s) in &spec.sources {
        if let Some(def) = source_def(name, s, file, root, problems) {
            out.insert(name.clone(), def);
        }
    }
    // Profiles not chosen are checked too, for their shape (a bad URL or digest, an unknown
    // source name), so that a mistake in one shows before the day it is built.
    for (name, p) in spec.profiles.iter().filter(|(n, _)| Some(n.as_str()) != profile) {
        for (source, s) in &p.sources {
            profile_source(name, source, s, spec, file, root, problems);
        }
    }
    let Some(profile) = profile else { return out };
    match spec.profiles.get(profile) {
        Some(p) => {
            for (name, s) in &p.sources {
                if let Some(def) = profile_source(profile, name, s, spec, file, root, problems) {
                    out.insert(name.clone(), def);
                }
            }
        }
        None => {
            let names: Vec<&str> = spec.profiles.keys().map(String::as_str).collect();
            problems.push(
                PartyError::new(
                    "soiree::party::profile",
                    format!("party.toml has no profile `{profile}`"),
                )
                .help(format!(
                    "profiles: {}",
                    if names.is_empty() {
                        "(none)".into()
                    } else {
                        names.join(", ")
                    }
                )),
            );
        }
    }
    out
}
