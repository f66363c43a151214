//! The repository's own `party.toml`: the default profile loads as is, and the release profile
//! names the real upstream inputs, each download pinned or waiting for `soiree-pack lock`.

use std::path::PathBuf;

use soiree_party::{Problems, SourceDef};

fn plain(problems: &Problems) -> String {
    problems.0.iter().map(|p| p.render_plain()).collect()
}

fn repo_party() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../party.toml")
}

#[test]
fn the_default_profile_loads() {
    let party = soiree_party::load(&repo_party(), None).unwrap_or_else(|p| panic!("{}", plain(&p)));
    let names: Vec<&str> = party.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["client", "server", "uro"]);
}

#[test]
fn the_release_profile_downloads_upstream_inputs_over_https() {
    let party = soiree_party::load_for_lock(&repo_party(), Some("release"))
        .unwrap_or_else(|p| panic!("{}", plain(&p)));
    let url = |name: &str| match &party.sources[name] {
        SourceDef::Url { url, sha256, .. } => (url.clone(), sha256.clone()),
        other => panic!("{name} is not a download: {other:?}"),
    };
    let (cockroach, sha) = url("cockroachdb");
    assert!(
        cockroach.starts_with("https://binaries.cockroachdb.com/"),
        "{cockroach}"
    );
    assert_eq!(
        sha.map(|s| s.len()),
        Some(64),
        "CockroachDB is pinned in party.toml"
    );
    let (bundle, _) = url("sandstorm-bundle");
    assert!(bundle.starts_with("https://dl.sandstorm.io/sandstorm-") && bundle.ends_with(".tar.xz"));
    // Without party.lock's entry the bundle is unpinned, and a normal load says so.
    if !std::fs::read_to_string(repo_party().with_file_name("party.lock"))
        .unwrap_or_default()
        .contains("sandstorm-bundle")
    {
        let problems = soiree_party::load(&repo_party(), Some("release")).unwrap_err();
        assert!(plain(&problems).contains("`sandstorm-bundle` has a URL but no sha256"));
    }
}

/// The release profile builds Uro and the Godot exports itself, by commands in copies of pinned
/// V-Sekai source archives; only Uro's command may use the network.
#[test]
fn the_release_profile_builds_uro_and_the_game_by_commands_from_pinned_sources() {
    use soiree_party::CommandInput;
    let party = soiree_party::load_for_lock(&repo_party(), Some("release"))
        .unwrap_or_else(|p| panic!("{}", plain(&p)));
    let command = |name: &str| match &party.sources[name] {
        SourceDef::Command(c) => c.clone(),
        other => panic!("{name} is not built by a command: {other:?}"),
    };
    let uro = command("uro-release");
    assert_eq!(uro.input, CommandInput::Source("uro-src".into()));
    assert!(uro.network && uro.tools == ["mix"]);
    assert!(uro
        .command
        .join(" ")
        .contains("mix deps.get --only prod && mix release"));
    for name in ["godot-server", "godot-client"] {
        let c = command(name);
        assert_eq!(c.input, CommandInput::Source("v-sekai-game-src".into()));
        assert!(!c.network && c.tools == ["godot"], "{name}");
        assert!(c
            .command
            .join(" ")
            .contains("godot --headless --path . --export-release Linux"));
    }
    for src in ["uro-src", "v-sekai-game-src"] {
        match &party.sources[src] {
            SourceDef::Url { url, .. } => assert!(url.starts_with("https://github.com/V-Sekai/"), "{url}"),
            other => panic!("{src}: {other:?}"),
        }
    }
}

/// The demo profile: mix and Godot 3 build the inputs, and the Uro package runs without
/// CockroachDB, which Debian does not ship.
#[test]
fn the_demo_profile_builds_its_inputs_with_debian_tools() {
    let party = soiree_party::load(&repo_party(), Some("demo")).unwrap_or_else(|p| panic!("{}", plain(&p)));
    for (name, tool) in [
        ("uro-release", "mix"),
        ("godot-server", "godot3-server"),
        ("godot-client", "godot3-server"),
    ] {
        match &party.sources[name] {
            SourceDef::Command(c) => assert_eq!(c.tools, [tool], "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    let uro = party.packages.iter().find(|p| p.name == "uro").unwrap();
    assert!(
        !uro.recipes.iter().any(|r| r == "cockroachdb"),
        "{:?}",
        uro.recipes
    );
    let default = soiree_party::load(&repo_party(), None).unwrap();
    let uro = default.packages.iter().find(|p| p.name == "uro").unwrap();
    assert!(
        uro.recipes.iter().any(|r| r == "cockroachdb"),
        "the other profiles keep it"
    );
}
