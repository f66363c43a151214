//! The command-line contract: `keygen`, `keys list|export`, `pack`, `verify`, `unpack`, `sign`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use soiree_schema::manifest_capnp::manifest;

fn soiree(args: &[&str]) -> Output {
    soiree_env(args, &[])
}

fn soiree_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    // Each command gets its own empty block cache, never the user's.
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_soiree-pack"));
    cmd.args(args)
        .env("SOIREE_PACK_CACHE_DIR", cache.path())
        .env_remove("SOIREE_SIGNING_KEY")
        .env_remove("SOIREE_KEYRING");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The stdout of a command that must have succeeded.
fn ok(out: Output) -> String {
    soiree_test_support::succeeded(out, "soiree-pack")
}

fn app_tree(root: &Path) {
    std::fs::create_dir_all(root.join("bin")).unwrap();
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(3);
        m.reborrow().init_app_title().set_default_text("CLI App");
        m.reborrow()
            .init_app_marketing_version()
            .set_default_text("0.3.0");
        m.init_continue_command().init_argv(1).set(0, "/bin/run");
    }
    std::fs::write(
        root.join("sandstorm-manifest"),
        capnp::serialize::write_message_to_words(&b),
    )
    .unwrap();
    std::fs::write(root.join("bin/run"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(root.join("bin/run"), std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn keygen_appends_with_mode_0600_and_lists_in_order() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    let first = ok(soiree(&["keygen", "--keyring", p(&ring)])).trim().to_string();
    assert_eq!(first.len(), 52);
    assert_eq!(
        std::fs::metadata(&ring).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let before = std::fs::read(&ring).unwrap();
    assert_eq!(before.len(), 128);
    let second = ok(soiree(&["keygen", "-k", p(&ring)])).trim().to_string();
    let after = std::fs::read(&ring).unwrap();
    assert_eq!(after.len(), 256);
    assert_eq!(after[..128], before[..], "existing keys are never rewritten");
    assert_eq!(
        ok(soiree(&["keys", "list", "--keyring", p(&ring)])),
        format!("{first}\n{second}\n")
    );

    let exported = soiree(&["keys", "export", &second, "--keyring", p(&ring)]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    assert_eq!(exported.stdout, after[128..]);
}

#[test]
fn private_keys_are_never_printed() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    let out = soiree(&["keygen", "--keyring", p(&ring)]);
    let bytes = std::fs::read(&ring).unwrap();
    let seed = &bytes[64..96];
    for text in [
        data_encoding::HEXLOWER.encode(seed),
        data_encoding::BASE64.encode(seed),
    ] {
        assert!(!stdout(&out).contains(&text) && !stderr(&out).contains(&text));
    }
    assert!(!out.stdout.windows(32).any(|w| w == seed) && !out.stderr.windows(32).any(|w| w == seed));
}

#[test]
fn pack_verify_unpack_sign_through_the_cli() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    let id = ok(soiree(&["keygen", "--keyring", p(&ring)])).trim().to_string();
    let app = t.path().join("app");
    app_tree(&app);
    let spk = t.path().join("app.spk");
    let packed = ok(soiree(&["pack", p(&app), "-o", p(&spk), "--keyring", p(&ring)]));
    assert!(packed.contains(&format!("app id      {id}")), "{packed}");
    let package_id = packed
        .lines()
        .find_map(|l| l.strip_prefix("package id  "))
        .unwrap()
        .to_string();

    let json: serde_json::Value = serde_json::from_str(&ok(soiree(&["verify", "--json", p(&spk)]))).unwrap();
    assert_eq!(json["app_id"], id.as_str());
    assert_eq!(json["package_id"], package_id.as_str());
    assert_eq!(json["title"], "CLI App");
    assert_eq!(json["version"], 3);
    assert_eq!(json["marketing_version"], "0.3.0");
    assert_eq!(json["archive_sha512"].as_str().unwrap().len(), 128);

    let text = ok(soiree(&["verify", p(&spk)]));
    assert!(text.contains("CLI App") && text.contains(&package_id), "{text}");

    let out = t.path().join("out");
    assert_eq!(ok(soiree(&["unpack", p(&spk), p(&out)])).trim(), id);
    assert_eq!(
        std::fs::read_to_string(out.join("bin/run")).unwrap(),
        "#!/bin/sh\necho hi\n"
    );
    let again = soiree(&["unpack", p(&spk), p(&out)]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already exists"), "{}", stderr(&again));

    let other = ok(soiree(&["keygen", "--keyring", p(&ring)])).trim().to_string();
    let resigned = t.path().join("resigned.spk");
    let signed = ok(soiree(&[
        "sign",
        p(&spk),
        "-o",
        p(&resigned),
        "--keyring",
        p(&ring),
        "--app-id",
        &other,
    ]));
    assert!(signed.contains(&other), "{signed}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(soiree(&["verify", "--json", p(&resigned)]))).unwrap();
    assert_eq!(json["app_id"], other.as_str());

    // Two keys and no --app-id: the tool asks which.
    let ambiguous = soiree(&["pack", p(&app), "-o", p(&spk), "--keyring", p(&ring)]);
    assert_eq!(ambiguous.status.code(), Some(1));
    assert!(stderr(&ambiguous).contains("--app-id"), "{}", stderr(&ambiguous));
}

#[test]
fn signing_key_from_the_environment() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    let id = ok(soiree(&["keygen", "--keyring", p(&ring)])).trim().to_string();
    let b64 = data_encoding::BASE64.encode(&std::fs::read(&ring).unwrap());
    let app = t.path().join("app");
    app_tree(&app);
    let spk = t.path().join("env.spk");
    let empty_ring = t.path().join("no-such-keyring");
    let out = ok(soiree_env(
        &["pack", p(&app), "-o", p(&spk), "--keyring", p(&empty_ring)],
        &[("SOIREE_SIGNING_KEY", &b64)],
    ));
    assert!(out.contains(&id), "{out}");
    let bad = soiree_env(
        &["pack", p(&app), "-o", p(&spk)],
        &[("SOIREE_SIGNING_KEY", "bm90IGEga2V5")],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("SOIREE_SIGNING_KEY"), "{}", stderr(&bad));
    assert!(!stderr(&bad).contains(&b64));
}

#[test]
fn invalid_packages_exit_1_with_one_line() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    ok(soiree(&["keygen", "--keyring", p(&ring)]));
    let app = t.path().join("app");
    app_tree(&app);
    let spk = t.path().join("app.spk");
    ok(soiree(&["pack", p(&app), "-o", p(&spk), "--keyring", p(&ring)]));
    let mut bytes = std::fs::read(&spk).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 0x55;
    let bad = t.path().join("bad.spk");
    std::fs::write(&bad, &bytes).unwrap();
    let out = soiree(&["verify", p(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid package"), "{}", stderr(&out));

    std::fs::write(&bad, b"not a package at all").unwrap();
    // Asked for JSON, the error is JSON too: one object on standard output, nothing else.
    let out = soiree(&["verify", "--json", p(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(err["reason"], "error");
    assert_eq!(err["class"], "rejected");
    assert!(
        err["message"].as_str().unwrap().contains("bad magic number"),
        "{err}"
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));

    let missing = soiree(&["verify", p(&t.path().join("nope.spk"))]);
    assert_eq!(missing.status.code(), Some(3), "I/O errors exit 3");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(soiree(&["pack"]).status.code(), Some(2));
    assert_eq!(soiree(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn bad_app_id_is_explained() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    ok(soiree(&["keygen", "--keyring", p(&ring)]));
    let out = soiree(&["keys", "export", "not-an-id", "--keyring", p(&ring)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not an app id"), "{}", stderr(&out));
}

#[test]
fn descriptor_encode_and_decode_round_trip_and_refuse_flags_that_do_not_apply() {
    let encoded = ok(soiree(&[
        "descriptor",
        "encode",
        "--interface",
        "api-session",
        "--canonical-url",
        "https://v-sekai.org/uro/api/v1",
    ]));
    let decoded = ok(soiree(&["descriptor", "decode", encoded.trim()]));
    assert!(
        decoded.contains("c879e379c625cdc7") || decoded.contains("14445447077279059399"),
        "{decoded}"
    );
    assert!(decoded.contains("https://v-sekai.org/uro/api/v1"), "{decoded}");

    let tls = soiree(&["descriptor", "encode", "--interface", "api-session", "--tls"]);
    assert_eq!(tls.status.code(), Some(2), "{}", stderr(&tls));
    assert!(stderr(&tls).contains("--tls goes with --interface ip-network"));
    let url = soiree(&[
        "descriptor",
        "encode",
        "--interface",
        "ip-interface",
        "--canonical-url",
        "https://x",
    ]);
    assert_eq!(url.status.code(), Some(2));
    let bad = soiree(&["descriptor", "decode", "not-a-descriptor"]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn plain_lzma2_by_default_the_x86_filter_on_request_and_verify_names_the_filters() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    ok(soiree(&["keygen", "--keyring", p(&ring)]));
    let app = t.path().join("app");
    app_tree(&app);
    // Real machine code (x86-64 Debian, as .ci/run has it): what the x86 filter is for.
    std::fs::create_dir_all(app.join("lib")).unwrap();
    std::fs::copy("/usr/lib/x86_64-linux-gnu/libc.so.6", app.join("lib/libc.so.6")).unwrap();
    let filters = |spk: &Path| -> serde_json::Value {
        let json: serde_json::Value =
            serde_json::from_str(&ok(soiree(&["verify", "--json", p(spk)]))).unwrap();
        json["filters"].clone()
    };

    let plain = t.path().join("plain.spk");
    ok(soiree(&[
        "pack",
        p(&app),
        "-o",
        p(&plain),
        "--keyring",
        p(&ring),
        "--fast",
    ]));
    let chains = filters(&plain);
    let chains = chains.as_object().unwrap();
    assert_eq!(chains.keys().collect::<Vec<_>>(), ["lzma2"], "{chains:?}");
    let text = ok(soiree(&["verify", p(&plain)]));
    assert!(text.contains("filters         lzma2 ("), "{text}");
    assert!(!text.contains("x86"), "{text}");

    let x86 = t.path().join("x86.spk");
    ok(soiree(&[
        "pack",
        p(&app),
        "-o",
        p(&x86),
        "--keyring",
        p(&ring),
        "--fast",
        "--x86-filter",
    ]));
    let chains = filters(&x86);
    assert!(chains["x86+lzma2"].as_u64().unwrap() >= 1, "{chains}");
    let text = ok(soiree(&["verify", p(&x86)]));
    assert!(text.contains("x86+lzma2 ("), "{text}");

    let help = ok(soiree(&["pack", "--help"]));
    assert!(
        help.contains("--x86-filter") && help.contains("Tempest"),
        "{help}"
    );
}
