//! `run FILE.spk` runs every `verify` check before anything of the package starts: a signed
//! package whose manifest `verify` rejects (and `unpack` alone would accept) is refused with
//! verify's reason and exit code 1, and no grain is started.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use sha2::Digest;
use soiree_schema::manifest_capnp::manifest;
use soiree_spk::{Dir, Entry, KeyPair};

/// A manifest that runs `/bin/sh` but names a `javascript:` website, which `verify` refuses.
fn bad_manifest() -> Vec<u8> {
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_title().set_default_text("Bad");
        m.reborrow().init_app_marketing_version().set_default_text("1");
        m.reborrow()
            .init_continue_command()
            .init_argv(1)
            .set(0, "/bin/sh");
        m.init_metadata().set_website("javascript:alert(1)");
    }
    capnp::serialize::write_message_to_words(&b)
}

/// `MAGIC ‖ xz(Signature ‖ Archive)`, signed, compressed by the real `xz`.
fn signed_package(path: &Path, tree: &Dir) {
    let mut archive = Vec::new();
    soiree_spk::encode::write_archive(tree, &mut archive).unwrap();
    let digest: [u8; 64] = sha2::Sha512::digest(&archive).into();
    let signature = soiree_spk::signature::sign(&KeyPair::from_seed(&[3; 32]), &digest);
    let mut xz = Command::new("xz")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("xz (apt-get install xz-utils)");
    let mut stdin = xz.stdin.take().unwrap();
    let payload = [signature, archive].concat();
    let feeder = std::thread::spawn(move || stdin.write_all(&payload));
    let out = xz.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success());
    std::fs::write(path, [soiree_schema::SPK_MAGIC.to_vec(), out.stdout].concat()).unwrap();
}

#[test]
fn run_refuses_a_package_that_verify_rejects() {
    let t = tempfile::tempdir().unwrap();
    let mut tree = Dir::default();
    tree.entries.insert(
        b"sandstorm-manifest".to_vec(),
        Entry::bytes(bad_manifest(), false, 0),
    );
    let spk = t.path().join("bad.spk");
    signed_package(&spk, &tree);
    // unpack alone accepts it: only the manifest is wrong.
    soiree_spk::unpack(&spk, &t.path().join("unpacked")).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_soiree-pack"))
        .args(["run", "bad.spk"])
        .current_dir(t.path())
        .env("HOME", t.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("soiree::spk::manifest") && stderr.contains("javascript:alert(1)"),
        "{stderr}"
    );
    assert!(stderr.contains("invalid package"), "{stderr}");
    // Nothing of the package was left to run: the grain's folder holds no unpacked root.
    let grain = t.path().join(".soiree/run/bad");
    let left: Vec<_> = std::fs::read_dir(&grain)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}
