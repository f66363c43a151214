//! `local-port` and `local-path` of `[[requests]]`: where a recipe's programs reach a granted API,
//! substituted from the recipe's parameters, and refused at the recipe line where they cannot
//! apply.

use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A party whose one package uses the recipe `game`, with `request` as its `[[requests]]`.
fn load(request: &str) -> Result<soiree_party::Party, String> {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "party.toml",
        r#"[party]
name = "p"
app-version = 1
marketing-version = "1"

[packages.app]
title = "App"
recipes = [{ use = "game", with = { port = 4100 } }]
"#,
    );
    write(
        dir.path(),
        "recipes/game.toml",
        &format!(
            "[params.port]\ntype = \"integer\"\n\n[params.request]\ntype = \"string\"\ndefault = \"uro\"\n\n[services.web]\ncommand = [\"/bin/web\"]\nports = [8000]\n\n[[requests]]\n{request}"
        ),
    );
    soiree_party::load(&dir.path().join("party.toml"), None)
        .map_err(|p| p.0.iter().map(|e| e.render_plain()).collect::<String>())
}

#[test]
fn a_recipe_says_where_its_programs_reach_the_api() {
    let party = load(
        r#"name = "{{request}}"
interface = "api-session"
canonical-url = "https://example.org/api"
local-port = "{{port}}"
local-path = "/api/v1/"
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = &party.packages[0].requests[0];
    assert_eq!(r.name, "uro");
    assert_eq!(
        r.local,
        Some(soiree_party::LocalApi {
            port: 4100,
            path: "/api/v1/".into()
        })
    );
    let bare = load("name = \"uro\"\ninterface = \"api-session\"\nlocal-port = 4000\n").unwrap();
    assert_eq!(bare.packages[0].requests[0].local.as_ref().unwrap().path, "/");
}

#[test]
fn where_it_cannot_apply_it_is_refused_at_the_recipe_line() {
    for (request, want) in [
        (
            "name = \"udp\"\ninterface = \"ip-interface\"\nlocal-port = 4000\n",
            "only api-session requests take a local-port",
        ),
        (
            "name = \"uro\"\ninterface = \"api-session\"\nlocal-path = \"/api/\"\n",
            "local-path goes with local-port",
        ),
        (
            "name = \"uro\"\ninterface = \"api-session\"\nlocal-port = 4000\nlocal-path = \"api\"\n",
            "local-path starts and ends with `/`",
        ),
        (
            "name = \"uro\"\ninterface = \"api-session\"\nlocal-port = 70000\n",
            "70000 is not a port number",
        ),
        (
            "name = \"u ro\"\ninterface = \"api-session\"\n",
            "`u ro` is not a request name",
        ),
        (
            "name = \"uro\"\ninterface = \"api-session\"\nlocal-port = 15240\n",
            "port 15240 is taken by the grain's link service",
        ),
        (
            "name = \"uro\"\ninterface = \"api-session\"\nlocal-port = 8000\n",
            "port 8000 is taken by service `web`",
        ),
        (
            "name = \"a\"\ninterface = \"api-session\"\nlocal-port = 4000\n[[requests]]\nname = \"b\"\ninterface = \"api-session\"\nlocal-port = 4000\n",
            "port 4000 is taken by request `a`",
        ),
    ] {
        let e = load(request)
            .err()
            .unwrap_or_else(|| panic!("{request} was accepted"));
        assert!(e.contains(want), "{request}: {e}");
        assert!(e.contains("recipes/game.toml"), "{e}");
    }
}
