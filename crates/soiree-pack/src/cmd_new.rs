//! `init`, `new recipe` and `recipes`: starting a party, starting a recipe, and listing the
//! recipes a party can use with their parameters.

use std::io::Write;
use std::path::{Path, PathBuf};

use soiree_spk::display::Escaped;

use crate::failure::Failure;

/// `init [DIR]`: a party that `check` accepts and `build` builds — party.toml with one package,
/// a recipe that serves a folder, the folder, an icon and a README line. Nothing that exists is
/// overwritten: if any of the files is already there, nothing is written.
pub fn init(dir: &Path, name: Option<&str>) -> Result<(), Failure> {
    let name = match name {
        Some(n) if soiree_party::vocab::valid_name(n) => n.to_string(),
        Some(n) => {
            return Err(Failure::usage(format!(
                "`{}` is not a package name: lowercase letters, digits and `-`, starting with a letter",
                Escaped(n)
            )))
        }
        None => name_from(dir),
    };
    let files: Vec<(PathBuf, String)> = vec![
        (dir.join("party.toml"), party_toml(&name)),
        (dir.join("recipes/site.toml"), SITE_RECIPE.to_string()),
        (dir.join("site/index.html"), index_html(&name)),
        (dir.join("icon.svg"), ICON.to_string()),
    ];
    let readme = dir.join("README.md");
    if let Some((taken, _)) = files.iter().find(|(p, _)| p.exists()) {
        return Err(Failure::usage(format!(
            "{} already exists; `init` writes only new files (run it in an empty folder, or pass another DIR)",
            taken.display()
        )));
    }
    for (path, text) in &files {
        write_new(path, text)?;
    }
    // A README the folder already has is the user's; ours is a line for a new one only.
    let readme_written = !readme.exists() && write_new(&readme, &readme_text(&name)).is_ok();
    crate::ui::note(format_args!(
        "created party `{name}` in {}: party.toml, recipes/site.toml, site/, icon.svg{}",
        shown(dir),
        if readme_written { ", README.md" } else { "" }
    ));
    crate::ui::note(
        "next: `soiree-pack build` writes dist/{name}.spk; `soiree-pack recipes` lists what `add` can add"
            .replace("{name}", &name),
    );
    Ok(())
}

/// `new recipe NAME`: `recipes/NAME.toml` beside the party file, with a parameter, a file
/// mapping and a service to edit, every key commented.
pub fn new_recipe(name: &str, party: &Path) -> Result<(), Failure> {
    if !soiree_party::vocab::valid_name(name) {
        return Err(Failure::usage(format!(
            "`{}` is not a recipe name: lowercase letters, digits and `-`, starting with a letter",
            Escaped(name)
        )));
    }
    let path = crate::party_file::folder(party).join(format!("recipes/{name}.toml"));
    if path.exists() {
        return Err(Failure::usage(format!("{} already exists", path.display())));
    }
    write_new(&path, &recipe_template(name))?;
    crate::ui::note(format_args!(
        "created {}; use it with `soiree-pack add {name} --package PACKAGE`",
        path.display()
    ));
    Ok(())
}

/// `recipes`: every recipe beside the party file with its parameters.
pub fn recipes(party: &Path, json: bool) -> Result<(), Failure> {
    let dir = crate::party_file::folder(party).join("recipes");
    let list = soiree_party::catalog::recipes(&dir)?;
    if json {
        for r in &list {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["reason"] = "recipe".into();
            println!("{}", crate::json_line::line(&v));
        }
        return Ok(());
    }
    if list.is_empty() {
        crate::ui::note(format_args!("{} holds no recipes", dir.display()));
    }
    for r in &list {
        match &r.description {
            Some(d) => println!("{}  {}", r.name, Escaped(d)),
            None => println!("{}", r.name),
        }
        for p in &r.params {
            let default = match &p.default {
                Some(d) => format!(" = {d}"),
                None => " (required)".to_string(),
            };
            let description = p
                .description
                .as_deref()
                .map(|d| format!("  {}", Escaped(d)))
                .unwrap_or_default();
            println!("    {}: {}{}{description}", p.name, p.kind, Escaped(&default));
        }
    }
    Ok(())
}

fn shown(dir: &Path) -> String {
    if dir.as_os_str().is_empty() || dir == Path::new(".") {
        "the current folder".into()
    } else {
        dir.display().to_string()
    }
}

/// A package name from the folder's name (`My Game` → `my-game`), `app` if none fits.
fn name_from(dir: &Path) -> String {
    let base = std::fs::canonicalize(dir)
        .ok()
        .or_else(|| Some(dir.to_path_buf()))
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_lowercase()))
        .unwrap_or_default();
    let mut name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').to_string();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    name.truncate(64);
    if soiree_party::vocab::valid_name(&name) {
        name
    } else {
        "app".into()
    }
}

/// Creates `path` (and its folders) only if it does not exist.
fn write_new(path: &Path, text: &str) -> Result<(), Failure> {
    let machine = |e: std::io::Error| Failure::machine(format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(machine)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(machine)?;
    f.write_all(text.as_bytes()).map_err(machine)
}

fn party_toml(name: &str) -> String {
    format!(
        r#"# The party: the Sandstorm packages soiree-pack builds from this folder.
# `soiree-pack build` writes dist/{name}.spk; docs/party-toml.md describes every key.

[party]
name = "{name}"
app-version = 1
marketing-version = "0.1.0"
short-description = "{name}"
icon = "icon.svg"

# Where files come from: a folder here, a download pinned by sha256, a command's output.
[sources]
site = {{ path = "site" }}

# One package; `soiree-pack recipes` lists the recipes `soiree-pack add` can give it.
[packages.{name}]
title = "{name}"
recipes = [{{ use = "site" }}]
"#
    )
}

const SITE_RECIPE: &str = r#"description = "The folder of source `site`, at /opt/site in the package."

[[files]]
source = "site"
to = "/opt/site"
"#;

fn index_html(name: &str) -> String {
    format!("<!doctype html>\n<title>{name}</title>\n<h1>{name}</h1>\n")
}

fn readme_text(name: &str) -> String {
    format!(
        "# {name}\n\nA Sandstorm app built with soiree-pack: `soiree-pack build` writes `dist/{name}.spk`.\n"
    )
}

const ICON: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 128 128"><rect width="128" height="128" rx="24" fill="#2b2d42"/><circle cx="64" cy="64" r="30" fill="none" stroke="#ef8354" stroke-width="8"/></svg>
"##;

fn recipe_template(name: &str) -> String {
    format!(
        r#"# Recipe `{name}`: what it puts into a package. docs/recipes.md describes every key.
description = "What `{name}` adds (shown by `soiree-pack recipes`)."

# A parameter: `soiree-pack add {name} --package P --set port=7000` changes it; the recipe says
# {{{{port}}}} where the value goes.
[params.port]
type = "integer"
default = 7000
description = "the port the service listens on, on the grain's loopback"

# Files from a source of party.toml (or `content = "…"` for generated text):
# [[files]]
# source = "{name}"
# to = "/opt/{name}"

# A service the grain supervisor starts, restarts and waits for:
# [services.{name}]
# command = ["/opt/{name}/bin/{name}", "--port", "{{{{port}}}}"]
# ready = {{ tcp = {{{{port}}}} }}
"#
    )
}
