//! `[[listings]]` of recipes: substituted, kept once when two recipes declare the same page, and
//! bad paths or different pages at one `to` shown at the recipe line.

use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn party(dir: &Path, app: &str) {
    write(
        dir,
        "party.toml",
        r#"[party]
name = "p"
app-version = 1
marketing-version = "1"

[packages.app]
title = "App"
recipes = [{ use = "app", with = { dir = "/opt/app/downloads" } }]
"#,
    );
    write(
        dir,
        "recipes/base.toml",
        "[[listings]]\ndir = \"/opt/app/downloads\"\nto = \"/opt/app/downloads/index.html\"\n",
    );
    // Every app recipe takes `dir` and includes `base`, whose listing it may repeat.
    let head = "[params.dir]\ntype = \"string\"\n\n[[include]]\nuse = \"base\"\n\n";
    write(dir, "recipes/app.toml", &format!("{head}{app}"));
}

#[test]
fn listings_are_substituted_and_kept_once() {
    let dir = tempfile::tempdir().unwrap();
    party(
        dir.path(),
        r#"[[listings]]
dir = "{{dir}}"
to = "{{dir}}/index.html"

[[listings]]
dir = "{{dir}}/linux"
to = "/opt/app/linux.html"
title = "Linux builds in {{dir}}"
"#,
    );
    let party = soiree_party::load(&dir.path().join("party.toml"), None)
        .unwrap_or_else(|p| panic!("{}", p.0.iter().map(|e| e.render_plain()).collect::<String>()));
    let listings = &party.packages[0].listings;
    let got: Vec<(&str, &str, Option<&str>, &str)> = listings
        .iter()
        .map(|l| {
            (
                l.dir.as_str(),
                l.to.as_str(),
                l.title.as_deref(),
                l.origin.via.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "/opt/app/downloads",
                "/opt/app/downloads/index.html",
                None,
                "app → base"
            ),
            (
                "/opt/app/downloads/linux",
                "/opt/app/linux.html",
                Some("Linux builds in /opt/app/downloads"),
                "app"
            ),
        ]
    );
}

#[test]
fn bad_paths_and_different_pages_at_one_to_are_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    party(
        dir.path(),
        r#"[[listings]]
dir = "{{dir}}/other"
to = "{{dir}}/index.html"

[[listings]]
dir = "relative"
to = "/opt/app/x.html"

[[listings]]
dir = "/opt/app"
to = "/opt/soiree/services.json"
"#,
    );
    let problems = soiree_party::load(&dir.path().join("party.toml"), None).unwrap_err();
    let text: Vec<String> = problems.0.iter().map(|e| e.render_plain()).collect();
    let all = text.join("\n");
    assert_eq!(text.len(), 3, "{all}");
    assert!(all.contains("soiree::recipe::listing_conflict"), "{all}");
    assert!(
        all.contains("two recipes put different listings at /opt/app/downloads/index.html"),
        "{all}"
    );
    assert!(all.contains("bad in-package path `relative`"), "{all}");
    assert!(
        all.contains("bad in-package path `/opt/soiree/services.json`"),
        "{all}"
    );
    assert!(all.contains("recipes/app.toml:12:7"), "{all}");
}
