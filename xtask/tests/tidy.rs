//! Tidy checks, as rust-analyzer keeps them: the map in `docs/ARCHITECTURE.md` names every crate
//! and every source file, each library says its one job on its first line, and the workspace's
//! dependency graph keeps the rules the architecture states.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cargo_metadata::{MetadataCommand, Package};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The workspace's own crates, by name.
fn members() -> BTreeMap<String, Package> {
    let meta = MetadataCommand::new()
        .manifest_path(root().join("Cargo.toml"))
        .no_deps()
        .exec()
        .unwrap();
    meta.workspace_packages()
        .into_iter()
        .map(|p| (p.name.to_string(), p.clone()))
        .collect()
}

fn workspace_deps(p: &Package, names: &BTreeSet<String>) -> BTreeSet<String> {
    p.dependencies
        .iter()
        .filter(|d| d.kind == cargo_metadata::DependencyKind::Normal)
        .map(|d| d.name.to_string())
        .filter(|n| names.contains(n))
        .collect()
}

/// The `.rs` files under `dir`, relative to it.
fn sources(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rs"))
        .filter(|e| !e.path().components().any(|c| c.as_os_str() == "generated"))
        .map(|e| e.path().strip_prefix(dir).unwrap().display().to_string())
        .collect();
    out.sort();
    out
}

/// The text of the section of ARCHITECTURE.md (a `##` heading to the next) whose heading names
/// `crate_name` in backticks.
fn section<'a>(doc: &'a str, crate_name: &str) -> Option<&'a str> {
    let heading = format!("`{crate_name}`");
    let start = doc
        .match_indices("\n## ")
        .map(|(i, _)| i + 1)
        .find(|&i| doc[i..].lines().next().is_some_and(|l| l.contains(&heading)))?;
    let end = doc[start + 3..]
        .find("\n## ")
        .map_or(doc.len(), |e| start + 3 + e);
    Some(&doc[start..end])
}

#[test]
fn architecture_md_names_every_crate_and_source_file() {
    let doc = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    for (name, p) in members() {
        let dir = p.manifest_path.parent().unwrap().as_std_path().to_path_buf();
        let rel = dir
            .strip_prefix(root().canonicalize().unwrap())
            .unwrap_or(&dir)
            .display()
            .to_string();
        if !doc.contains(&format!("`{rel}`")) {
            missing.push(format!("crate `{rel}` has no row in the table of crates"));
        }
        let files = sources(&dir.join("src"));
        if files.iter().all(|f| f == "lib.rs") {
            continue;
        }
        let Some(text) = section(&doc, &name) else {
            missing.push(format!(
                "no `## …` section names `{name}` for its files {files:?}"
            ));
            continue;
        };
        for f in files.iter().filter(|f| f.as_str() != "lib.rs") {
            if !text.contains(&format!("`{f}`")) {
                missing.push(format!("`{name}`: src/{f} is not named in its section"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md has drifted:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_library_says_its_one_job_on_its_first_line() {
    for (name, p) in members() {
        let lib = p.manifest_path.parent().unwrap().as_std_path().join("src/lib.rs");
        let Ok(text) = std::fs::read_to_string(&lib) else {
            continue;
        };
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("//! ") && first.len() > 20 && first.ends_with('.'),
            "{name}: src/lib.rs must open with a one-line `//! purpose.`, not {first:?}"
        );
    }
}

/// The layers, bottom first: a crate may depend only on crates of lower layers.
const LAYERS: &[&[&str]] = &[
    &[
        "soiree-fs",
        "soiree-grain",
        "soiree-schema",
        "soiree-test-support",
        "soiree-tunnel",
        "soiree-types",
    ],
    &["soiree-oci", "soiree-relay", "soiree-spk"],
    &["soiree-deps", "soiree-source"],
    &["soiree-party"],
    &["soiree-plan", "soiree-run"],
    &["soiree-build", "soiree-deploy", "soiree-up"],
    &["soiree-pack", "xtask"],
];

#[test]
fn the_dependency_graph_keeps_the_architecture_rules() {
    let members = members();
    let names: BTreeSet<String> = members.keys().cloned().collect();
    let layer = |n: &str| LAYERS.iter().position(|l| l.contains(&n));
    let mut broken = Vec::new();
    for (name, p) in &members {
        let Some(mine) = layer(name) else {
            broken.push(format!("`{name}` is in no layer of this test: place it"));
            continue;
        };
        for dep in workspace_deps(p, &names) {
            match layer(&dep) {
                Some(theirs) if theirs < mine => {}
                _ => broken.push(format!("`{name}` depends on `{dep}`, which is not below it")),
            }
        }
    }
    let deps = |n: &str| {
        members
            .get(n)
            .map(|p| workspace_deps(p, &names))
            .unwrap_or_default()
    };
    // The supervisor ships inside every package: it must stay small and self-contained.
    for n in ["soiree-grain", "soiree-fs", "soiree-schema", "soiree-types"] {
        if !deps(n).is_empty() {
            broken.push(format!("`{n}` depends on workspace crates {:?}", deps(n)));
        }
    }
    // What builds trees and reads parties needs nothing of the format (xz, Ed25519, Cap'n Proto).
    for n in ["soiree-deps", "soiree-source", "soiree-party"] {
        if deps(n).contains("soiree-spk") {
            broken.push(format!(
                "`{n}` depends on `soiree-spk`: soiree-types holds what it needs"
            ));
        }
    }
    // The format knows nothing of parties.
    for n in [
        "soiree-party",
        "soiree-plan",
        "soiree-source",
        "soiree-deps",
        "soiree-build",
    ] {
        if deps("soiree-spk").contains(n) {
            broken.push(format!("`soiree-spk` depends on `{n}`"));
        }
    }
    // The build library is driven by the CLI alone among programs.
    for (name, p) in &members {
        let is_bin = p.targets.iter().any(|t| t.is_bin());
        if is_bin && name != "soiree-pack" && deps(name).contains("soiree-build") {
            broken.push(format!("binary crate `{name}` depends on `soiree-build`"));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
