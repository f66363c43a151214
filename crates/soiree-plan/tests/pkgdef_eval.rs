//! Every pkgdef soiree-pack writes evaluates with the real `capnp` tool against Sandstorm's
//! schema, and its manifest is the one soiree-pack packs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn sandstorm_schemas() -> Option<PathBuf> {
    let p = workspace().join("../shared/spk-schemas");
    p.is_dir().then_some(p)
}

#[test]
fn pkgdefs_evaluate_and_match_the_packed_manifest() {
    let Some(schemas) = sandstorm_schemas() else {
        eprintln!("SKIPPED: ../shared/spk-schemas is absent; the pkgdef imports /sandstorm/package.capnp");
        return;
    };
    let party = soiree_party::load(&workspace().join("party.toml"), None)
        .unwrap_or_else(|p| panic!("{}", p.0.iter().map(|e| e.render_plain()).collect::<String>()));
    let dir = tempfile::tempdir().unwrap();
    for pkg in &party.packages {
        let m = soiree_plan::manifest::manifest(pkg).unwrap();
        let b = soiree_plan::manifest::bridge_config(pkg);
        let id = soiree_spk::KeyPair::from_seed(&[4; 32]).app_id().to_string();
        let text = soiree_plan::pkgdef::render(&id, &m, b.as_ref()).unwrap();
        let path = dir.path().join(format!("{}.capnp", pkg.name));
        std::fs::write(&path, &text).unwrap();
        let eval = |expr: &str| {
            let out = Command::new("capnp")
                .args(["eval", "-I"])
                .arg(&schemas)
                .arg(&path)
                .arg(expr)
                .output()
                .expect("capnp tool");
            assert!(
                out.status.success(),
                "{}:\n{}\n{text}",
                pkg.name,
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let from_pkgdef = eval("pkgdef.manifest");
        // The manifest bytes soiree-pack packs, decoded by the same tool.
        let bytes = capnp::serialize::write_message_to_words(&m);
        let mut child = Command::new("capnp")
            .args(["decode", "-I"])
            .arg(&schemas)
            .arg(schemas.join("sandstorm/package.capnp"))
            .arg("Manifest")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
        let decoded = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
        assert_eq!(from_pkgdef.trim(), decoded.trim(), "{}", pkg.name);
        assert!(from_pkgdef.contains(&pkg.title), "{from_pkgdef}");
        eval("pkgdef.bridgeConfig");
    }
}
