//! Independent checks of what soiree-spk writes: the real `xz` and `capnp` tools, and the
//! public test keyrings written by Sandstorm's own `spk keygen`.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn own_schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../soiree-schema/schema")
}

fn capnp_decode(include: &Path, file: &Path, type_name: &str, input: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("capnp")
        .arg("decode")
        .arg("-I")
        .arg(include)
        .arg(file)
        .arg(type_name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the capnp tool (apt-get install capnproto)");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "capnp decode {type_name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn packed_sample() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    sample_tree(&t.path().join("app"));
    let spk = t.path().join("app.spk");
    pack_dir(&t.path().join("app"), &key(11), &spk);
    (t, spk)
}

#[test]
fn xz_lists_two_crc64_streams() {
    let (_t, spk) = packed_sample();
    let body = std::fs::read(&spk).unwrap()[8..].to_vec();
    let xz_file = spk.with_extension("xz");
    std::fs::write(&xz_file, body).unwrap();
    let out = Command::new("xz")
        .args(["--robot", "--list"])
        .arg(&xz_file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let totals = text.lines().find(|l| l.starts_with("totals")).unwrap();
    let cols: Vec<&str> = totals.split('\t').collect();
    assert_eq!(cols[1], "2", "two streams: {totals}");
    assert_eq!(cols[6], "CRC64", "{totals}");
}

#[test]
fn capnp_tool_decodes_both_messages_with_our_schema() {
    let (_t, spk) = packed_sample();
    let payload = xz_payload(&spk);
    let (sig, archive) = split_first_message(&payload);
    let dir = own_schema_dir();
    let s = capnp_decode(&dir, &dir.join("archive.capnp"), "Signature", sig);
    assert!(s.contains("publicKey = ") && s.contains("signature = "), "{s}");
    let a = capnp_decode(&dir, &dir.join("archive.capnp"), "Archive", archive);
    for needle in [
        "name = \"bin\"",
        "executable = \"#!/bin/sh\\necho hello from the grain\\n\"",
        "symlink = \"../share/doc/readme.txt\"",
        "name = \"empty\"",
        "directory = []",
        "name = \"cpuinfo\"",
    ] {
        assert!(a.contains(needle), "{needle} missing from:\n{a}");
    }
}

#[test]
fn capnp_tool_decodes_both_messages_with_sandstorms_schema() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared is absent, so Sandstorm's schema files are not available");
        return;
    };
    let include = shared.join("spk-schemas");
    let (_t, spk) = packed_sample();
    let payload = xz_payload(&spk);
    let (sig, archive) = split_first_message(&payload);
    let package = include.join("sandstorm/package.capnp");
    let s = capnp_decode(&include, &package, "Signature", sig);
    assert!(s.contains("publicKey"), "{s}");
    let a = capnp_decode(&include, &package, "Archive", archive);
    assert!(a.contains("name = \"sandstorm-manifest\""), "{a}");
    // The manifest inside decodes as Sandstorm's Manifest too.
    let tree = std::fs::read(_t.path().join("app/sandstorm-manifest")).unwrap();
    let m = capnp_decode(&include, &package, "Manifest", &tree);
    assert!(m.contains("appTitle = (defaultText = \"Test App\")"), "{m}");
}

const INTEROP: &[(&str, &str)] = &[
    (
        "sandstorm-test-app.keyring",
        "6r8gt8ct5e774489grqvzz7dc4fzntpxjrusdwcy329ppnkt3kuh",
    ),
    (
        "sandstorm-meteor-testapp.keyring",
        "zadreansqjmn199y5dj109ek8gtg6kcaxd589cma4ppqmzvzau30",
    ),
    (
        "tempest-test-app.keyring",
        "a7nsvn9e01j96upsf9nemw39ggw6dst2nf8zg6fqfqv6u1gjc64h",
    ),
];

#[test]
fn public_test_keyrings_list_their_app_ids_and_sign() {
    let Some(shared) = shared_dir() else {
        eprintln!("SKIPPED: ../shared/interop is absent, so the spk-written keyrings are not available");
        return;
    };
    let (t, spk) = packed_sample();
    for (file, app_id) in INTEROP {
        let path = shared.join("interop").join(file);
        let ring = soiree_spk::Keyring::at(&path);
        let keys = ring.read().unwrap();
        assert_eq!(keys.len(), 1, "{file}");
        assert_eq!(keys[0].app_id().to_string(), *app_id, "{file}");
        // Our KeyFile encoding of the same key is byte-identical to spk keygen's.
        assert_eq!(keys[0].to_key_file(), std::fs::read(&path).unwrap(), "{file}");
        let id: soiree_spk::AppId = app_id.parse().unwrap();
        let out = t.path().join(format!("{app_id}.spk"));
        soiree_spk::sign::resign(&spk, &ring.find(&id).unwrap(), &out).unwrap();
        assert_eq!(soiree_spk::verify(&out).unwrap().opened.app_id, id);
    }
}
