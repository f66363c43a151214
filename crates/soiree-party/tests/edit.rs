//! `add` and `set` keep every comment and the layout of party.toml, and refuse edits that
//! would break the party.

use std::path::Path;

fn copy_party(dir: &Path) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let party = dir.join("party.toml");
    std::fs::copy(root.join("party.toml"), &party).unwrap();
    std::fs::create_dir(dir.join("recipes")).unwrap();
    for e in std::fs::read_dir(root.join("recipes")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("recipes").join(e.file_name())).unwrap();
    }
    // Sources are paths relative to party.toml; point them back at the repository's fixtures.
    std::os::unix::fs::symlink(
        root.join("fixtures").canonicalize().unwrap(),
        dir.join("fixtures"),
    )
    .unwrap();
    party
}

fn without(text: &str, needle: &str) -> String {
    text.lines()
        .filter(|l| !l.contains(needle))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn set_changes_one_value_and_keeps_everything_else() {
    let t = tempfile::tempdir().unwrap();
    let party = copy_party(t.path());
    let before = std::fs::read_to_string(&party).unwrap();
    soiree_party::edit::set(
        &party,
        "party.marketing-version",
        soiree_party::edit::parse_value("\"0.2.0\""),
    )
    .unwrap();
    let after = std::fs::read_to_string(&party).unwrap();
    assert!(after.contains("marketing-version = \"0.2.0\""));
    assert_eq!(
        without(&before, "marketing-version"),
        without(&after, "marketing-version")
    );
    let loaded = soiree_party::load(&party, None).unwrap();
    assert_eq!(loaded.meta.marketing_version, "0.2.0");
}

#[test]
fn add_appends_a_recipe_and_keeps_comments_byte_for_byte() {
    let t = tempfile::tempdir().unwrap();
    let party = copy_party(t.path());
    let before = std::fs::read_to_string(&party).unwrap();
    let with = soiree_party::edit::parse_assignments(&["port=6380".into()]).unwrap();
    soiree_party::edit::add_recipe(&party, "server", "redis", &with).unwrap();
    let after = std::fs::read_to_string(&party).unwrap();
    assert!(
        after.contains("{ use = \"redis\", with = { port = 6380 } }"),
        "{after}"
    );
    // Every line that was there is still there, in order, unchanged.
    let mut new_lines = after.lines();
    for line in before.lines() {
        assert!(new_lines.any(|l| l == line), "lost or changed: {line:?}");
    }
    let loaded = soiree_party::load(&party, None).unwrap();
    let server = loaded.packages.iter().find(|p| p.name == "server").unwrap();
    assert!(server.recipes.contains(&"redis".to_string()));
}

#[test]
fn edits_that_break_the_party_are_refused_and_nothing_is_written() {
    let t = tempfile::tempdir().unwrap();
    let party = copy_party(t.path());
    let before = std::fs::read_to_string(&party).unwrap();
    assert!(soiree_party::edit::add_recipe(&party, "server", "no-such-recipe", &[]).is_err());
    assert!(soiree_party::edit::set(
        &party,
        "party.website",
        soiree_party::edit::parse_value("\"ftp://x\"")
    )
    .is_err());
    assert!(soiree_party::edit::add_recipe(&party, "no-such-package", "redis", &[]).is_err());
    assert_eq!(std::fs::read_to_string(&party).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 3, "{leftovers:?}");
}
