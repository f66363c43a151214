//! `build` signs with the package's real key: found by its app id in the keyring or taken from
//! `SOIREE_SIGNING_KEY`; `--release` needs one of them, and a keyring that cannot be read is an
//! error rather than a reason to fall back to a development key.

mod common;

use std::path::Path;
use std::process::Output;

fn soiree(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    common::soiree(dir, dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("SOIREE_KEYRING")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The app id `verify --json` reports for `spk`.
fn signed_by(dir: &Path, spk: &str) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&ok(soiree(dir, &["verify", "--json", spk], &[]))).unwrap();
    json["app_id"].as_str().unwrap_or_default().to_string()
}

#[test]
fn release_builds_sign_with_the_key_of_the_app_id_from_the_keyring_or_the_environment() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    std::fs::create_dir(dir.join("recipes")).unwrap();
    std::fs::write(
        dir.join("recipes/note.toml"),
        "[[files]]\nto = \"/note.txt\"\ncontent = \"hi\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("party.toml"),
        "[party]\nname = \"keys\"\napp-version = 1\nmarketing-version = \"1\"\n\n\
         [packages.app]\ntitle = \"App\"\nrecipes = [{ use = \"note\" }]\n",
    )
    .unwrap();
    let id = ok(soiree(dir, &["keygen", "--keyring", "ring"], &[]))
        .trim()
        .to_string();
    assert_eq!(id.len(), 52, "{id}");
    ok(soiree(
        dir,
        &["set", "packages.app.app-id", &format!("\"{id}\"")],
        &[],
    ));

    // From the keyring.
    ok(soiree(
        dir,
        &["build", "--release", "--keyring", "ring", "--out", "a"],
        &[],
    ));
    assert_eq!(signed_by(dir, "a/app.spk"), id);

    // From the environment, with a keyring that does not hold it.
    // `keys export` writes the KeyFile; CI keeps it base64-encoded in a secret.
    let exported = soiree(dir, &["keys", "export", &id, "--keyring", "ring"], &[]);
    assert!(exported.status.success());
    let secret = data_encoding::BASE64.encode(&exported.stdout);
    let built = soiree(
        dir,
        &["build", "--release", "--keyring", "other-ring", "--out", "b"],
        &[("SOIREE_SIGNING_KEY", secret.as_str())],
    );
    ok(built);
    assert_eq!(signed_by(dir, "b/app.spk"), id);

    // Neither: --release refuses, a development build warns and signs with another key.
    let refused = soiree(
        dir,
        &["build", "--release", "--keyring", "other-ring", "--out", "c"],
        &[],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(&id),
        "names the app id"
    );
    let dev = soiree(dir, &["build", "--keyring", "other-ring", "--out", "d"], &[]);
    assert!(String::from_utf8_lossy(&dev.stderr).contains("DEVELOPMENT key"));
    assert_ne!(signed_by(dir, "d/app.spk"), id);

    // A damaged keyring is an error, also for a development build, and is left as it was.
    std::fs::write(dir.join("bad-ring"), b"not a keyring").unwrap();
    let damaged = soiree(dir, &["build", "--keyring", "bad-ring", "--out", "e"], &[]);
    assert_eq!(
        damaged.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&damaged.stderr)
    );
    assert!(!dir.join("e/app.spk").exists());
    assert_eq!(std::fs::read(dir.join("bad-ring")).unwrap(), b"not a keyring");
}
