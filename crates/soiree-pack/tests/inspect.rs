//! `ls` and `why`: a package's files grouped by who placed them, with totals and warnings near
//! Sandstorm's limits; and the chain that brings one library in, from the recipe line down.

mod common;

use common::{text, Party};

/// A package with the real redis-server (placed by recipe `redis` from source `redis`) and a
/// sparse 450 MiB data file (recipe `data`): nothing is read of it but its first bytes.
fn redis_party() -> Party {
    let redis = common::program("/usr/bin/redis-server", "redis-server");
    let party = Party::new(
        "redis = { path = \"inputs/redis\" }\ndata = { path = \"inputs/data\" }",
        &["redis", "data"],
    );
    party.copy(&redis, "inputs/redis/usr/bin/redis-server");
    party.recipe(
        "redis",
        "[[files]]\nsource = \"redis\"\nfrom = \"usr/bin/redis-server\"\nto = \"/usr/bin/redis-server\"\n",
    );
    std::fs::create_dir_all(party.path("inputs/data")).unwrap();
    let big = std::fs::File::create(party.path("inputs/data/world.bin")).unwrap();
    big.set_len(450 << 20).unwrap();
    party.recipe("data", "[[files]]\nsource = \"data\"\nto = \"/opt/data\"\n");
    party
}

#[test]
fn why_names_the_recipe_the_source_the_program_and_the_library() {
    let party = redis_party();
    let libssl = common::ldd(std::path::Path::new("/usr/bin/redis-server"))
        .into_iter()
        .find(|(named, _)| named.file_name().is_some_and(|n| n == "libssl.so.3"))
        .expect("redis-server needs libssl.so.3");
    let real = libssl.1.to_str().unwrap();
    let out = party.run(&["why", "app", real]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<&str> = shown.lines().collect();
    assert!(
        lines[0].starts_with(&format!("{real} in package `app` (file")),
        "{shown}"
    );
    assert!(
        lines[1].contains("/usr/bin/redis-server is placed by recipe redis (recipes/redis.toml:4:6), from source `redis` usr/bin/redis-server"),
        "{shown}"
    );
    assert!(
        lines[2].contains("/usr/bin/redis-server needs libssl.so.3 → "),
        "{shown}"
    );
    assert!(shown.contains("taken from / (the build machine)"), "{shown}");

    // The path as ldd names it goes through the package's own symlinks (`/lib → usr/lib` on a
    // merged-/usr machine); it is explained through the file it opens.
    let named = libssl.0.to_str().unwrap();
    let out = party.run(&["why", "app", named]);
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        shown.contains("/usr/bin/redis-server needs libssl.so.3"),
        "{shown}"
    );
    if named != real {
        assert!(shown.contains(&format!("{real} is the file it opens")), "{shown}");
    }

    // A file a recipe placed names the recipe; a path the package lacks is an error.
    let out = party.run(&["why", "app", "/usr/bin/redis-server"]);
    assert!(
        text(&out.stdout).contains("placed by recipe redis"),
        "{}",
        text(&out.stdout)
    );
    let out = party.run(&["why", "app", "/usr/bin/nothing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not in package `app`"));
}

#[test]
fn why_all_lists_every_chain_and_a_missing_path_gets_the_closest() {
    let party = redis_party();
    // libc comes in through redis-server and through the supervisor every package ships, and
    // through libraries both need: more than one chain.
    let libc = common::ldd(std::path::Path::new("/usr/bin/redis-server"))
        .into_iter()
        .find(|(named, _)| named.file_name().is_some_and(|n| n == "libc.so.6"))
        .expect("redis-server needs libc.so.6");
    let real = libc.1.to_str().unwrap();
    let out = party.run(&["why", "app", real, "--all", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    let chains = v["chains"].as_array().unwrap();
    assert!(chains.len() >= 2, "{v}");
    let starts: Vec<&str> = chains.iter().map(|c| c[0].as_str().unwrap()).collect();
    assert!(
        starts
            .iter()
            .any(|s| s.starts_with("/usr/bin/redis-server is placed by")),
        "{starts:?}"
    );
    assert!(
        starts
            .iter()
            .any(|s| s.starts_with("/opt/soiree/bin/soiree-grain is placed by")),
        "{starts:?}"
    );
    // Shortest first, and the first is the one plain `why` shows.
    let lens: Vec<usize> = chains.iter().map(|c| c.as_array().unwrap().len()).collect();
    assert!(lens.windows(2).all(|w| w[0] <= w[1]), "{lens:?}");
    assert_eq!(chains[0], v["chain"]);
    let plain = party.run(&["why", "app", real, "--json"]);
    let p: serde_json::Value = serde_json::from_str(text(&plain.stdout).trim()).unwrap();
    assert!(p.get("chains").is_none());
    assert_eq!(p["chain"], v["chain"]);
    let shown = text(&party.run(&["why", "app", real, "--all"]).stdout);
    assert!(
        shown.contains(&format!("chain 2 of {}:", chains.len())),
        "{shown}"
    );

    // A typo, and a file asked for at the wrong folder: the closest path of the package.
    let out = party.run(&["why", "app", "/usr/bin/redis-srever"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("did you mean /usr/bin/redis-server?"),
        "{}",
        text(&out.stderr)
    );
    let out = party.run(&["why", "app", "/bin/redis-server"]);
    assert!(
        text(&out.stderr).contains("did you mean /usr/bin/redis-server?"),
        "{}",
        text(&out.stderr)
    );
    let out = party.run(&["why", "app", "/nothing/like/it/at/all.txt"]);
    assert!(
        !text(&out.stderr).contains("did you mean"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn ls_groups_by_recipe_source_and_closure_with_totals_and_warns_near_the_limits() {
    let party = redis_party();
    let out = party.run(&["ls", "app"]);
    let shown = text(&out.stdout);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    let titles: Vec<&str> = shown.lines().filter(|l| !l.starts_with(' ')).collect();
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("recipe redis, source `redis` (1 file")),
        "{shown}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("recipe data, source `data` (1 file, 450.0 MiB)")),
        "{shown}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("closure of /usr/bin/redis-server, from / (")),
        "{shown}"
    );
    assert!(titles.iter().any(|t| t.starts_with("soiree-pack (")), "{shown}");
    assert!(titles.last().unwrap().starts_with("app: "), "{shown}");
    assert!(
        err.contains(
            "warning: /opt/data/world.bin is 450.0 MiB (87% of Sandstorm's limit of 512.0 MiB a file)"
        ),
        "{err}"
    );

    // The JSON form: groups add up to the totals.
    let out = party.run(&["ls", "app", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let groups = doc["groups"].as_array().unwrap();
    let files: usize = groups.iter().map(|g| g["files"].as_array().unwrap().len()).sum();
    let bytes: u64 = groups.iter().map(|g| g["bytes"].as_u64().unwrap()).sum();
    assert_eq!(files as u64, doc["files"].as_u64().unwrap());
    assert_eq!(bytes, doc["bytes"].as_u64().unwrap());
    assert!(doc["archive_bytes"].as_u64().unwrap() > bytes);
    assert_eq!(doc["over_limit"], false);
    assert_eq!(doc["warnings"].as_array().unwrap().len(), 1);
}
