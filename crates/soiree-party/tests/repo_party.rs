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
