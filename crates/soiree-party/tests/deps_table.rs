//! `[deps]` of recipes and `[packages.NAME.deps]`: substituted, merged in composition order,
//! each value once with the place that declared it first.

use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn deps_merge_across_recipes_and_party_toml() {
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
recipes = [{ use = "app", with = { dir = "/opt/app" } }]

[packages.app.deps]
optional = ["libextra.so.2", "libGL.so.1"]
"#,
    );
    write(
        dir.path(),
        "recipes/base.toml",
        "[deps]\nlibrary-path = [\"/opt/base/lib\"]\noptional = [\"libGL.so.1\"]\n",
    );
    write(
        dir.path(),
        "recipes/app.toml",
        r#"[params.dir]
type = "string"

[[include]]
use = "base"

[deps]
library-path = ["{{dir}}/lib", "$ORIGIN/../lib", "/opt/base/lib"]
path = ["{{dir}}/bin"]
skip = ["{{dir}}/downloads/**"]
"#,
    );
    let party = soiree_party::load(&dir.path().join("party.toml"), None)
        .unwrap_or_else(|p| panic!("{}", p.0.iter().map(|e| e.render_plain()).collect::<String>()));
    let deps = &party.packages[0].deps;
    let values = |list: &[soiree_party::DepsValue]| list.iter().map(|d| d.value.clone()).collect::<Vec<_>>();
    assert_eq!(
        values(&deps.library_path),
        ["/opt/base/lib", "/opt/app/lib", "$ORIGIN/../lib"]
    );
    assert_eq!(values(&deps.path), ["/opt/app/bin"]);
    assert_eq!(values(&deps.optional), ["libGL.so.1", "libextra.so.2"]);
    assert_eq!(deps.optional[0].origin.via, "app → base");
    assert_eq!(deps.optional[1].origin.via, "party.toml");
    let skip = deps.skip_set().unwrap();
    assert!(skip.is_match("/opt/app/downloads/linux/client.x86_64"));
    assert!(!skip.is_match("/opt/app/bin/server"));
}
