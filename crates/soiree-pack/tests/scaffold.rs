//! `init`, `new recipe` and `recipes`: a new party that checks and builds at once, a recipe
//! started for a contributor, and the list of recipes with their parameters.

mod common;

use std::path::Path;
use std::process::Output;

use common::text;

fn soiree(cwd: &Path, home: &Path, args: &[&str]) -> Output {
    common::soiree(cwd, home)
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap()
}

/// The stdout of a command that must have succeeded.
fn ok(out: Output) -> String {
    soiree_test_support::succeeded(out, "soiree-pack")
}

#[test]
fn init_makes_a_party_that_checks_and_builds() {
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let out = soiree(home.path(), home.path(), &["init", "My Game"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("created party `my-game`"),
        "{}",
        text(&out.stderr)
    );
    let party = home.path().join("My Game");
    for f in [
        "party.toml",
        "recipes/site.toml",
        "site/index.html",
        "icon.svg",
        "README.md",
    ] {
        assert!(party.join(f).is_file(), "{f}");
    }
    let checked = ok(soiree(&party, home.path(), &["check"]));
    assert!(checked.starts_with("my-game "), "{checked}");
    let built = ok(soiree(&party, home.path(), &["build", "--offline"]));
    assert!(built.contains("dist/my-game.spk"), "{built}");
    let listing = ok(soiree(&party, home.path(), &["ls", "my-game"]));
    assert!(listing.contains("/opt/site/index.html"), "{listing}");

    // A second init writes nothing, and says which file is in the way.
    std::fs::write(party.join("README.md"), "mine\n").unwrap();
    let before = std::fs::read_to_string(party.join("party.toml")).unwrap();
    let again = soiree(&party, home.path(), &["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("party.toml already exists"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(party.join("party.toml")).unwrap(), before);
    assert_eq!(
        std::fs::read_to_string(party.join("README.md")).unwrap(),
        "mine\n"
    );

    // A name that is not a package name is refused.
    let bad = soiree(home.path(), home.path(), &["init", "other", "--name", "Bad_Name"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(!home.path().join("other/party.toml").exists());
}

#[test]
fn new_recipe_is_listed_with_its_parameters_and_can_be_added() {
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    ok(soiree(home.path(), home.path(), &["init", "shop"]));
    let party = home.path().join("shop");
    // From a subfolder: the recipe goes beside the party file.
    let out = soiree(&party.join("site"), home.path(), &["new", "recipe", "cache"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(party.join("recipes/cache.toml").is_file());
    let again = soiree(&party, home.path(), &["new", "recipe", "cache"]);
    assert_eq!(again.status.code(), Some(2));

    let human = ok(soiree(&party, home.path(), &["recipes"]));
    assert!(human.contains("cache  What `cache` adds"), "{human}");
    assert!(
        human.contains("    port: integer = 7000  the port the service listens on"),
        "{human}"
    );
    let json = ok(soiree(
        &party,
        home.path(),
        &["recipes", "--message-format", "json"],
    ));
    let lines: Vec<serde_json::Value> = json.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let names: Vec<&str> = lines.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["cache", "site"]);
    let port = &lines[0]["params"][0];
    assert_eq!(port["name"], "port");
    assert_eq!(port["type"], "integer");
    assert_eq!(port["default"], 7000);
    assert_eq!(lines[0]["reason"], "recipe");

    ok(soiree(
        &party,
        home.path(),
        &["add", "cache", "--package", "shop", "--set", "port=7100"],
    ));
    ok(soiree(&party, home.path(), &["check"]));

    // A recipe that does not parse is reported with its place, as `check` would.
    std::fs::write(
        party.join("recipes/broken.toml"),
        "[params.x]\ntype = \"integr\"\n",
    )
    .unwrap();
    let out = soiree(&party, home.path(), &["recipes", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(v["reason"], "error");
    assert!(v["file"].as_str().unwrap().ends_with("broken.toml"), "{v}");
    assert_eq!(v["line"], 2);
}
