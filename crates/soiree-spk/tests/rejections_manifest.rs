//! Rejections of the verifier and the unpacker, each shown with a crafted bad package: the manifest.

mod common;
use common::craft::*;
use common::*;

use std::path::Path;

use capnp::message::Builder;
use soiree_schema::manifest_capnp::manifest;
use soiree_spk::Error;

// ---------------------------------------------------------------------------------------------
// The manifest
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_manifest_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let m = good_manifest();
    // Nowhere at all; and only below the top level.
    for archive in [
        archive_msg(&[("bin", E::Dir(vec![("app", E::Exe(b"x"))]))]),
        archive_msg(&[("sub", E::Dir(vec![("sandstorm-manifest", E::Reg(&m))]))]),
        archive_msg(&[]),
    ] {
        let spk = save_payload(t.path(), "no-manifest.spk", &signed_payload(&key(1), &archive));
        assert!(matches!(verify_err(&spk), Error::NoManifest));
        // `spk unpack` does not look for the manifest.
        let out = t.path().join("out");
        soiree_spk::unpack(&spk, &out).unwrap();
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn manifest_as_a_directory_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let m = good_manifest();
    let archive = archive_msg(&[("sandstorm-manifest", E::Dir(vec![("inner", E::Reg(&m))]))]);
    let spk = save_payload(t.path(), "dir.spk", &signed_payload(&key(1), &archive));
    assert!(matches!(verify_err(&spk), Error::ManifestNotRegular));
}

#[test]
fn manifest_as_an_executable_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let m = good_manifest();
    let archive = archive_msg(&[("sandstorm-manifest", E::Exe(&m))]);
    let spk = save_payload(t.path(), "exe.spk", &signed_payload(&key(1), &archive));
    assert!(matches!(verify_err(&spk), Error::ManifestNotRegular));
}

#[test]
fn manifest_as_a_symlink_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let m = good_manifest();
    let archive = archive_msg(&[
        ("real-manifest", E::Reg(&m)),
        ("sandstorm-manifest", E::Link("real-manifest")),
    ]);
    let spk = save_payload(t.path(), "link.spk", &signed_payload(&key(1), &archive));
    assert!(matches!(verify_err(&spk), Error::ManifestNotRegular));
}

fn verify_with_manifest(dir: &Path, manifest: &[u8]) -> Error {
    let archive = archive_msg(&[("sandstorm-manifest", E::Reg(manifest))]);
    let spk = save_payload(dir, "manifest.spk", &signed_payload(&key(1), &archive));
    verify_err(&spk)
}

#[test]
fn manifest_website_must_be_http() {
    let t = tempfile::tempdir().unwrap();
    for website in ["ftp://x", "javascript:alert(1)", "HTTP://upper.case", "", "//x"] {
        let m = manifest_bytes(&ManifestSpec {
            website: Some(website),
            ..ManifestSpec::default()
        });
        let err = verify_with_manifest(t.path(), &m);
        assert!(
            matches!(&err, Error::InvalidManifest(r) if r.contains("website")),
            "{website}: {err:?}"
        );
    }
}

#[test]
fn manifest_code_url_must_be_http() {
    let t = tempfile::tempdir().unwrap();
    for code_url in [
        "javascript:alert(document.cookie)",
        "ftp://x",
        "file:///etc/passwd",
    ] {
        let m = manifest_bytes(&ManifestSpec {
            code_url: Some(code_url),
            ..ManifestSpec::default()
        });
        let err = verify_with_manifest(t.path(), &m);
        assert!(
            matches!(&err, Error::InvalidManifest(r) if r.contains("codeUrl")),
            "{code_url}: {err:?}"
        );
    }
}

#[test]
fn manifest_pgp_signature_without_keyring_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let mut b = Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_title().set_default_text("PGP");
        m.reborrow().init_app_marketing_version().set_default_text("1");
        m.init_metadata()
            .init_author()
            .set_pgp_signature(b"not really a signature");
    }
    let bytes = capnp::serialize::write_message_to_words(&b);
    let err = verify_with_manifest(t.path(), &bytes);
    assert!(
        matches!(&err, Error::InvalidManifest(r) if r.contains("pgpKeyring")),
        "{err:?}"
    );
}

/// A manifest (version 1, marketing version "1") plus whatever `set` adds to it.
fn manifest_with(set: impl FnOnce(manifest::Builder)) -> Vec<u8> {
    let mut b = Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_marketing_version().set_default_text("1");
        set(m);
    }
    capnp::serialize::write_message_to_words(&b)
}

/// Just over Sandstorm's manifest traversal limit of 1 Mi words (8 MiB).
const OVER_8_MIB: usize = (1 << 23) + 4096;

#[test]
fn manifest_title_over_the_traversal_limit_is_rejected() {
    // `spk verify` copies the title into its report under the manifest's 8 MiB traversal
    // limit; a title it cannot read within that limit fails the verify.
    let t = tempfile::tempdir().unwrap();
    let title = "t".repeat(OVER_8_MIB);
    let m = manifest_with(|m| m.init_app_title().set_default_text(title.as_str()));
    let err = verify_with_manifest(t.path(), &m);
    assert!(matches!(err, Error::InvalidManifest(_)), "{err:?}");
}

#[test]
fn manifest_with_large_parts_within_the_traversal_limit_is_accepted() {
    // Not a rejection: a 5 MiB title and a 2 MiB keyring fit in the 8 MiB limit as Sandstorm
    // counts it (each part copied once), so checking them must not count anything twice.
    let t = tempfile::tempdir().unwrap();
    let title = "t".repeat(5 << 20);
    let keyring = vec![0x99u8; 2 << 20];
    let m = manifest_with(|mut m| {
        m.reborrow().init_app_title().set_default_text(title.as_str());
        m.init_metadata().set_pgp_keyring(&keyring);
    });
    assert!(m.len() < 1 << 23);
    let archive = archive_msg(&[("sandstorm-manifest", E::Reg(&m))]);
    let spk = save_payload(t.path(), "large.spk", &signed_payload(&key(1), &archive));
    let v = soiree_spk::verify(&spk).unwrap();
    assert_eq!(v.manifest.title.as_deref(), Some(title.as_str()));
    assert!(v.manifest.has_pgp_keyring);
}

#[test]
fn manifest_metadata_over_the_traversal_limit_is_rejected() {
    // `spk verify` copies the whole `metadata` (icons, screenshots, keyring, ...) the same way.
    // (Our reader refuses any manifest message over 1 Mi words up front; the per-part copy
    // check matters for broken pointers, below.)
    let t = tempfile::tempdir().unwrap();
    let keyring = vec![0x99u8; OVER_8_MIB];
    let m = manifest_with(|mut m| {
        m.reborrow().init_app_title().set_default_text("big metadata");
        m.init_metadata().set_pgp_keyring(&keyring);
    });
    let err = verify_with_manifest(t.path(), &m);
    assert!(matches!(err, Error::InvalidManifest(_)), "{err:?}");
}

/// Points the text pointer whose text starts with `text` (8+ bytes, unique) far outside `msg`.
fn break_text_pointer(msg: &mut [u8], text: &str) {
    assert_eq!(msg[..4], [0, 0, 0, 0], "one segment");
    let words = (msg.len() - 8) / 8;
    let len = text.len() as u64 + 1; // NUL included
    let at = (0..words)
        .find(|&i| {
            let w = word(msg, i);
            // A list pointer (kind 1) to bytes (element size 2) of the right length.
            w & 3 == 1 && (w >> 32) & 7 == 2 && w >> 35 == len && {
                let t = target(msg, i);
                t < words && msg[8 + 8 * t..16 + 8 * t] == text.as_bytes()[..8]
            }
        })
        .expect("the text pointer");
    let far_away = word(msg, at) & !0xffff_fffc | (0x0100_0000 << 2);
    set_word(msg, at, far_away);
}

#[test]
fn manifest_with_a_broken_pointer_is_rejected() {
    // A pointer that leads outside the message in a part `spk verify` copies into its report
    // (title, marketing version, metadata) makes Sandstorm throw; it must not be read as "absent".
    let t = tempfile::tempdir().unwrap();
    for broken in ["a fine title", "marketing 1.0", "https://example.org/"] {
        let mut m = manifest_with(|mut m| {
            m.reborrow().init_app_title().set_default_text("a fine title");
            m.reborrow()
                .init_app_marketing_version()
                .set_default_text("marketing 1.0");
            m.init_metadata().set_website("https://example.org/");
        });
        break_text_pointer(&mut m, broken);
        {
            let r = capnp::serialize::read_message_from_flat_slice(
                &mut &m[..],
                capnp::message::ReaderOptions::new(),
            )
            .unwrap();
            let root = r.get_root::<manifest::Reader>().unwrap();
            assert!(
                root.total_size().is_err(),
                "{broken}: the pointer really is broken"
            );
        }
        let err = verify_with_manifest(t.path(), &m);
        assert!(matches!(err, Error::InvalidManifest(_)), "{broken}: {err:?}");
    }
}

#[test]
fn manifest_that_is_not_a_message_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    for bytes in [&b""[..], b"hello", &[0xff; 64]] {
        let err = verify_with_manifest(t.path(), bytes);
        assert!(matches!(err, Error::InvalidManifest(_)), "{bytes:?}: {err:?}");
    }
}
