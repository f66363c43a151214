//! Every rejection of the verifier and the unpacker, each shown with a crafted bad package.
//!
//! Packages here are built from raw parts (Cap'n Proto messages from the generated bindings, a
//! signature from `soiree_spk::signature::sign`, xz from `spk_from_payload`), so each one breaks
//! exactly one rule of Sandstorm's `spk verify` / `spk unpack`.

mod common;
use common::*;

use std::io::Write;
use std::path::{Path, PathBuf};

use capnp::message::{AllocationStrategy, Allocator, Builder, HeapAllocator};
use sha2::Digest;
use soiree_schema::archive_capnp::{archive, key_file, signature as signature_msg};
use soiree_schema::manifest_capnp::manifest;
use soiree_spk::{AppId, Error, KeyPair, PackageId};

// ---------------------------------------------------------------------------------------------
// Crafting helpers
// ---------------------------------------------------------------------------------------------

/// One archive entry, for crafting archives the packer would never write.
enum E<'a> {
    Reg(&'a [u8]),
    Exe(&'a [u8]),
    Link(&'a str),
    Dir(Vec<(&'a str, E<'a>)>),
}

fn fill(mut list: capnp::struct_list::Builder<archive::file::Owned>, entries: &[(&str, E)]) {
    for (i, (name, entry)) in entries.iter().enumerate() {
        let mut f = list.reborrow().get(i as u32);
        f.set_name(*name);
        f.set_last_modification_time_ns(1_700_000_000_000_000_000);
        match entry {
            E::Reg(d) => f.set_regular(d),
            E::Exe(d) => f.set_executable(d),
            E::Link(t) => f.set_symlink(*t),
            E::Dir(children) => fill(f.init_directory(children.len() as u32), children),
        }
    }
}

fn archive_with<A: Allocator>(mut b: Builder<A>, entries: &[(&str, E)]) -> Vec<u8> {
    let root = b.init_root::<archive::Builder>();
    fill(root.init_files(entries.len() as u32), entries);
    capnp::serialize::write_message_to_words(&b)
}

/// A framed `Archive` message holding exactly `entries`.
fn archive_msg(entries: &[(&str, E)]) -> Vec<u8> {
    archive_with(Builder::new_default(), entries)
}

fn good_manifest() -> Vec<u8> {
    manifest_bytes(&ManifestSpec::default())
}

/// `entries` after a valid `sandstorm-manifest`.
fn archive_with_manifest(entries: Vec<(&str, E)>) -> Vec<u8> {
    let m = good_manifest();
    let mut all = vec![("sandstorm-manifest", E::Reg(&m))];
    all.extend(entries);
    archive_msg(&all)
}

fn sha512(bytes: &[u8]) -> [u8; 64] {
    sha2::Sha512::digest(bytes).into()
}

/// `Signature ‖ Archive`, correctly signed by `key`.
fn signed_payload(key: &KeyPair, archive: &[u8]) -> Vec<u8> {
    let sig = soiree_spk::signature::sign(key, &sha512(archive));
    [sig, archive.to_vec()].concat()
}

/// A `Signature` message with arbitrary field contents.
fn raw_signature(public_key: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut b = Builder::new_default();
    {
        let mut root = b.init_root::<signature_msg::Builder>();
        root.set_public_key(public_key);
        root.set_signature(signature);
    }
    capnp::serialize::write_message_to_words(&b)
}

/// Splits a framed `Signature` message into its public key and 128-byte signature.
fn signature_fields(sig_msg: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let msg = capnp::serialize::read_message_from_flat_slice(
        &mut &sig_msg[..],
        capnp::message::ReaderOptions::new(),
    )
    .unwrap();
    let root = msg.get_root::<signature_msg::Reader>().unwrap();
    (
        root.get_public_key().unwrap().to_vec(),
        root.get_signature().unwrap().to_vec(),
    )
}

fn save(dir: &Path, name: &str, spk: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, spk).unwrap();
    path
}

/// Writes `payload` as an .spk (magic ‖ xz) into `dir`.
fn save_payload(dir: &Path, name: &str, payload: &[u8]) -> PathBuf {
    save(dir, name, &spk_from_payload(payload))
}

fn verify_err(path: &Path) -> Error {
    match soiree_spk::verify(path) {
        Ok(_) => panic!("{} verified, but it must be rejected", path.display()),
        Err(e) => e,
    }
}

fn open_err(path: &Path) -> Error {
    match soiree_spk::open(path) {
        Ok(_) => panic!("{} opened, but it must be rejected", path.display()),
        Err(e) => e,
    }
}

fn unpack_err(path: &Path, target: &Path) -> Error {
    match soiree_spk::unpack(path, target) {
        Ok(_) => panic!("{} unpacked, but it must be rejected", path.display()),
        Err(e) => e,
    }
}

/// Names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Unpacks into `parent/out` and checks the failure left nothing behind in `parent`.
fn unpack_fails_cleanly(spk: &Path, parent: &Path) -> Error {
    let target = parent.join("out");
    let err = unpack_err(spk, &target);
    assert!(
        target.symlink_metadata().is_err(),
        "a failed unpack left {target:?}"
    );
    if parent.exists() {
        assert_eq!(
            listing(parent),
            Vec::<String>::new(),
            "a failed unpack left stray files in {parent:?}"
        );
    }
    err
}

/// A valid, signed package with some bulk (pseudo-random, so xz cannot shrink it).
fn valid_package_payload() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let noise: Vec<u8> = (0..64 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let archive = archive_with_manifest(vec![
        ("bin", E::Dir(vec![("app", E::Exe(b"#!/bin/sh\n"))])),
        ("noise", E::Reg(&noise)),
    ]);
    signed_payload(&key(1), &archive)
}

// ---------------------------------------------------------------------------------------------
// The container: magic and xz
// ---------------------------------------------------------------------------------------------

#[test]
fn crafted_valid_package_is_accepted() {
    // The baseline every other test breaks in one way.
    let t = tempfile::tempdir().unwrap();
    let spk = save_payload(t.path(), "ok.spk", &valid_package_payload());
    let v = soiree_spk::verify(&spk).unwrap();
    assert_eq!(v.opened.app_id, key(1).app_id());
    assert_eq!(v.stats.files, 3);
    assert_eq!(v.stats.directories, 1);
    let out = t.path().join("out");
    soiree_spk::unpack(&spk, &out).unwrap();
    assert_eq!(std::fs::read(out.join("bin/app")).unwrap(), b"#!/bin/sh\n");
}

#[test]
fn bad_magic_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let mut bytes = spk_from_payload(&valid_package_payload());
    bytes[3] ^= 0x01;
    let spk = save(t.path(), "bad-magic.spk", &bytes);
    assert!(matches!(verify_err(&spk), Error::BadMagic));
    // A plain xz file (no magic) is not an .spk either.
    let spk = save(t.path(), "no-magic.spk", &bytes[8..]);
    assert!(matches!(verify_err(&spk), Error::BadMagic));
}

#[test]
fn empty_file_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let spk = save(t.path(), "empty.spk", b"");
    assert!(matches!(verify_err(&spk), Error::BadMagic));
    assert!(matches!(
        unpack_fails_cleanly(&spk, &t.path().join("u")),
        Error::BadMagic
    ));
}

#[test]
fn magic_alone_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let spk = save(t.path(), "magic.spk", &soiree_schema::SPK_MAGIC);
    let err = verify_err(&spk);
    assert!(matches!(err, Error::Xz(_) | Error::Truncated(_)), "{err}");
}

#[test]
fn truncated_files_are_errors_never_panics() {
    let t = tempfile::tempdir().unwrap();
    let full = spk_from_payload(&valid_package_payload());
    let len = full.len();
    // Inside the magic, just after it, inside the xz header, the middle, the last block, the
    // stream footer, and one byte short.
    let mut cuts: Vec<usize> = vec![1, 4, 7, 8, 9, 12, 20, 40, 100, len / 3, len / 2, len - 100];
    cuts.extend(len - 40..len);
    for cut in cuts {
        let spk = save(t.path(), "cut.spk", &full[..cut]);
        let err = verify_err(&spk);
        if cut < 8 {
            assert!(matches!(err, Error::BadMagic), "cut at {cut}: {err}");
        } else {
            assert!(
                matches!(err, Error::Xz(_) | Error::Truncated(_)),
                "cut at {cut} of {len}: {err:?}"
            );
        }
    }
}

#[test]
fn corrupt_xz_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let full = spk_from_payload(&valid_package_payload());
    // Flip a byte in the middle of the xz data (inside the compressed archive), and a few others.
    let xz_len = full.len() - 8;
    for at in [
        8 + xz_len / 2,
        8 + xz_len / 3,
        8 + 2 * xz_len / 3,
        full.len() - 20,
    ] {
        let mut bytes = full.clone();
        bytes[at] ^= 0x40;
        let spk = save(t.path(), "corrupt.spk", &bytes);
        let err = verify_err(&spk);
        assert!(matches!(err, Error::Xz(_)), "flip at {at}: {err:?}");
    }
}

#[test]
fn garbage_after_the_xz_stream_is_rejected() {
    // `xz -dc` fails on trailing bytes that are not another stream, so `spk verify` does too.
    let t = tempfile::tempdir().unwrap();
    let mut bytes = spk_from_payload(&valid_package_payload());
    bytes.extend_from_slice(b"garbage!");
    let spk = save(t.path(), "trailing.spk", &bytes);
    let err = verify_err(&spk);
    assert!(matches!(err, Error::Xz(_)), "{err:?}");
}

#[test]
fn xz_stream_padding_and_concatenated_streams_are_accepted() {
    // Not a rejection: what `xz -dc` accepts, the reader accepts too.
    let t = tempfile::tempdir().unwrap();
    let payload = valid_package_payload();
    let mut padded = spk_from_payload(&payload);
    padded.extend_from_slice(&[0; 8]);
    soiree_spk::verify(&save(t.path(), "padded.spk", &padded)).unwrap();
    let (sig, archive) = split_first_message(&payload);
    let mut two = spk_from_payload(sig);
    two.extend_from_slice(&spk_from_payload(archive)[8..]);
    soiree_spk::verify(&save(t.path(), "two-streams.spk", &two)).unwrap();
}

#[test]
fn signature_only_without_archive_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let sig = soiree_spk::signature::sign(&key(1), &sha512(b""));
    let spk = save_payload(t.path(), "no-archive.spk", &sig);
    let err = verify_err(&spk);
    assert!(
        matches!(err, Error::BadMessage { what: "Archive", .. }),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The signature
// ---------------------------------------------------------------------------------------------

#[test]
fn public_key_of_31_bytes_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let archive = archive_with_manifest(vec![]);
    let (public, sig) = signature_fields(&soiree_spk::signature::sign(&key(1), &sha512(&archive)));
    let payload = [raw_signature(&public[..31], &sig), archive].concat();
    let spk = save_payload(t.path(), "pk31.spk", &payload);
    assert!(matches!(verify_err(&spk), Error::InvalidPublicKey(_)));
    assert!(matches!(
        unpack_fails_cleanly(&spk, &t.path().join("u")),
        Error::InvalidPublicKey(_)
    ));
}

#[test]
fn non_canonical_public_key_is_rejected() {
    // y = p + 3, i.e. a y coordinate >= p: libsodium refuses such encodings.
    let t = tempfile::tempdir().unwrap();
    let archive = archive_with_manifest(vec![]);
    let (_, sig) = signature_fields(&soiree_spk::signature::sign(&key(1), &sha512(&archive)));
    let mut public = [0xffu8; 32];
    public[0] = 0xf0; // p = 2^255 - 19 = ed ff .. ff 7f; p + 3 = f0 ff .. ff 7f
    public[31] = 0x7f;
    let payload = [raw_signature(&public, &sig), archive].concat();
    let spk = save_payload(t.path(), "pk-noncanonical.spk", &payload);
    let err = verify_err(&spk);
    assert!(matches!(err, Error::InvalidPublicKey(_)), "{err:?}");
}

#[test]
fn signature_of_127_bytes_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let archive = archive_with_manifest(vec![]);
    let (public, sig) = signature_fields(&soiree_spk::signature::sign(&key(1), &sha512(&archive)));
    let payload = [raw_signature(&public, &sig[..127]), archive].concat();
    let spk = save_payload(t.path(), "sig127.spk", &payload);
    assert!(matches!(verify_err(&spk), Error::InvalidSignatureFormat(127)));
}

#[test]
fn flipped_signature_bytes_are_rejected() {
    let t = tempfile::tempdir().unwrap();
    let archive = archive_with_manifest(vec![]);
    let (public, sig) = signature_fields(&soiree_spk::signature::sign(&key(1), &sha512(&archive)));
    // In R, in S, and in the digest half of libsodium's combined form.
    for at in [0, 10, 40, 63, 64, 100, 127] {
        let mut bad = sig.clone();
        bad[at] ^= 0x01;
        let payload = [raw_signature(&public, &bad), archive.clone()].concat();
        let spk = save_payload(t.path(), "flipped.spk", &payload);
        let err = verify_err(&spk);
        assert!(matches!(err, Error::InvalidSignature), "flip at {at}: {err:?}");
    }
}

#[test]
fn signature_by_another_key_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let archive = archive_with_manifest(vec![]);
    let (_, sig) = signature_fields(&soiree_spk::signature::sign(&key(1), &sha512(&archive)));
    let payload = [raw_signature(&key(2).app_id().0, &sig), archive].concat();
    let spk = save_payload(t.path(), "other-key.spk", &payload);
    assert!(matches!(verify_err(&spk), Error::InvalidSignature));
}

#[test]
fn archive_changed_after_signing_is_a_digest_mismatch() {
    let t = tempfile::tempdir().unwrap();
    let signed = archive_with_manifest(vec![("a", E::Reg(b"original"))]);
    let shipped = archive_with_manifest(vec![("a", E::Reg(b"tampered"))]);
    assert_eq!(signed.len(), shipped.len());
    let sig = soiree_spk::signature::sign(&key(1), &sha512(&signed));
    let spk = save_payload(t.path(), "tampered.spk", &[sig.clone(), shipped].concat());
    assert!(matches!(verify_err(&spk), Error::DigestMismatch));
    assert!(matches!(
        unpack_fails_cleanly(&spk, &t.path().join("u")),
        Error::DigestMismatch
    ));
    // Bytes appended after the archive message are part of the signed data too.
    let spk = save_payload(t.path(), "appended.spk", &[sig, signed, vec![0; 8]].concat());
    assert!(matches!(verify_err(&spk), Error::DigestMismatch));
}

/// The order of the Ed25519 group, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

#[test]
fn non_canonical_s_is_rejected() {
    // (R, S + L) satisfies the verification equation, but libsodium requires S < L (no
    // signature malleability), and so must we.
    let t = tempfile::tempdir().unwrap();
    let archive = archive_with_manifest(vec![]);
    let (public, mut sig) = signature_fields(&soiree_spk::signature::sign(&key(1), &sha512(&archive)));
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
        sig[32 + i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 32 bytes");
    let payload = [raw_signature(&public, &sig), archive].concat();
    let spk = save_payload(t.path(), "s-plus-l.spk", &payload);
    let err = verify_err(&spk);
    assert!(matches!(err, Error::InvalidSignature), "{err:?}");
}

#[test]
fn small_order_public_key_is_rejected() {
    // Public key = the identity point, R = the identity, S = 0: [S]B == R + [k]A holds for every
    // message, so a lax verifier would accept this "signature" for any archive at all.
    let t = tempfile::tempdir().unwrap();
    let archive = archive_with_manifest(vec![]);
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut sig = [0u8; 128];
    sig[..32].copy_from_slice(&identity);
    sig[64..].copy_from_slice(&sha512(&archive));
    let payload = [raw_signature(&identity, &sig), archive].concat();
    let spk = save_payload(t.path(), "identity-key.spk", &payload);
    let err = verify_err(&spk);
    assert!(
        matches!(err, Error::InvalidSignature | Error::InvalidPublicKey(_)),
        "{err:?}"
    );
    assert!(matches!(
        unpack_fails_cleanly(&spk, &t.path().join("u")),
        Error::InvalidSignature | Error::InvalidPublicKey(_)
    ));
}

#[test]
fn revoked_key_is_rejected_except_for_listed_packages() {
    // The first entry of Sandstorm's replacement table is a test entry whose original key is
    // revoked except for one package id. Its private key is unknown, so the table is checked
    // directly.
    let original: AppId = "vjvekechd398fn1t1kn1dgdnmaekqq9jkjv3zsgzymc4z913ref0"
        .parse()
        .unwrap();
    let replacement: AppId = "wq95qmutckc0yfmecv0ky96cqxgp156up8sv81yxvmery58q87jh"
        .parse()
        .unwrap();
    let listed = PackageId::from_hex("b5bb9d8014a0f9b1d61e21e796d78dcc").unwrap();
    let other = PackageId([0x5a; 16]);
    let err = soiree_spk::replacements::canonical_app_id(&original, &other).unwrap_err();
    assert!(
        matches!(&err, Error::Revoked { app_id } if *app_id == original.to_string()),
        "{err:?}"
    );
    assert_eq!(
        soiree_spk::replacements::canonical_app_id(&original, &listed).unwrap(),
        original
    );
    // The replacement key signs for the original app id, whatever the package.
    assert_eq!(
        soiree_spk::replacements::canonical_app_id(&replacement, &other).unwrap(),
        original
    );
}

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

// ---------------------------------------------------------------------------------------------
// File names
// ---------------------------------------------------------------------------------------------

const BAD_NAMES: [&str; 6] = ["", ".", "..", "a/b", "a\0b", "/"];

#[test]
fn invalid_names_at_top_level_are_rejected() {
    let t = tempfile::tempdir().unwrap();
    for name in BAD_NAMES {
        let archive = archive_with_manifest(vec![("ok", E::Reg(b"fine")), (name, E::Reg(b"x"))]);
        let spk = save_payload(t.path(), "name.spk", &signed_payload(&key(1), &archive));
        let err = verify_err(&spk);
        assert!(
            matches!(&err, Error::InvalidFileName { dir, name: n } if dir.is_empty() && n == name),
            "{name:?}: {err:?}"
        );
        let err = unpack_fails_cleanly(&spk, &t.path().join("u"));
        assert!(matches!(err, Error::InvalidFileName { .. }), "{name:?}: {err:?}");
    }
}

#[test]
fn invalid_names_in_a_subdirectory_are_rejected() {
    let t = tempfile::tempdir().unwrap();
    for name in BAD_NAMES {
        for kind in 0..4 {
            let entry = match kind {
                0 => E::Reg(b"x"),
                1 => E::Exe(b"x"),
                2 => E::Link("/etc/passwd"),
                _ => E::Dir(vec![]),
            };
            let archive = archive_with_manifest(vec![(
                "sub",
                E::Dir(vec![(
                    "deeper",
                    E::Dir(vec![("ok", E::Reg(b"written first")), (name, entry)]),
                )]),
            )]);
            let spk = save_payload(t.path(), "name.spk", &signed_payload(&key(1), &archive));
            let err = verify_err(&spk);
            assert!(
                matches!(&err, Error::InvalidFileName { dir, name: n } if dir == "sub/deeper" && n == name),
                "{name:?}: {err:?}"
            );
            // `ok` is already on disk when the bad name is met; none of it may survive.
            let err = unpack_fails_cleanly(&spk, &t.path().join("u"));
            assert!(matches!(err, Error::InvalidFileName { .. }), "{name:?}: {err:?}");
        }
    }
}

#[test]
fn duplicate_names_are_rejected() {
    let t = tempfile::tempdir().unwrap();
    let m = good_manifest();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            archive_with_manifest(vec![
                ("a", E::Reg(b"1")),
                ("b", E::Reg(b"2")),
                ("a", E::Reg(b"3")),
            ]),
            "a",
        ),
        // The second `sandstorm-manifest` would be ignored by the manifest scan.
        (
            archive_msg(&[
                ("sandstorm-manifest", E::Reg(&m)),
                ("sandstorm-manifest", E::Reg(b"evil")),
            ]),
            "sandstorm-manifest",
        ),
        // A file and a directory of the same name.
        (
            archive_with_manifest(vec![
                ("x", E::Reg(b"file")),
                ("x", E::Dir(vec![("y", E::Reg(b"2"))])),
            ]),
            "x",
        ),
        (
            archive_with_manifest(vec![(
                "sub",
                E::Dir(vec![("z", E::Link("target")), ("z", E::Exe(b"#!"))]),
            )]),
            "sub/z",
        ),
    ];
    for (archive, dup) in cases {
        let spk = save_payload(t.path(), "dup.spk", &signed_payload(&key(1), &archive));
        let err = verify_err(&spk);
        assert!(
            matches!(&err, Error::DuplicateFileName(p) if p == dup),
            "{dup}: {err:?}"
        );
        let err = unpack_fails_cleanly(&spk, &t.path().join("u"));
        assert!(
            matches!(&err, Error::DuplicateFileName(p) if p == dup),
            "{dup}: {err:?}"
        );
    }
}

#[test]
fn names_differing_only_in_case_are_not_duplicates() {
    // Sandstorm compares bytes; `A` and `a` are two files.
    let t = tempfile::tempdir().unwrap();
    let archive = archive_with_manifest(vec![("A", E::Reg(b"upper")), ("a", E::Reg(b"lower"))]);
    let spk = save_payload(t.path(), "case.spk", &signed_payload(&key(1), &archive));
    soiree_spk::verify(&spk).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Structure: nesting and shared objects
// ---------------------------------------------------------------------------------------------

/// An archive with a manifest and `depth` directories nested inside each other, the innermost
/// holding one file.
fn nested_archive(depth: usize) -> Vec<u8> {
    let m = good_manifest();
    let mut b = Builder::new_default();
    {
        let mut top = b.init_root::<archive::Builder>().init_files(2);
        let mut mf = top.reborrow().get(0);
        mf.set_name("sandstorm-manifest");
        mf.set_regular(&m);
        let mut f = top.get(1);
        for _ in 0..depth {
            f.set_name("d");
            f = f.init_directory(1).get(0);
        }
        f.set_name("leaf");
        f.set_regular(b"bottom");
    }
    capnp::serialize::write_message_to_words(&b)
}

#[test]
fn nesting_deeper_than_the_limit_is_rejected_without_overflow() {
    let t = tempfile::tempdir().unwrap();
    for depth in [140, 1000, 10_000] {
        let spk = save_payload(
            t.path(),
            "deep.spk",
            &signed_payload(&key(1), &nested_archive(depth)),
        );
        let err = verify_err(&spk);
        assert!(matches!(err, Error::TooDeep(128)), "depth {depth}: {err:?}");
        let err = unpack_fails_cleanly(&spk, &t.path().join("u"));
        assert!(matches!(err, Error::TooDeep(128)), "depth {depth}: {err:?}");
    }
}

#[test]
fn nesting_limit_is_exactly_where_the_packer_stops() {
    // soiree-pack packs at most MAX_DIR_DEPTH levels because that is what a reader with
    // nesting limit 128 accepts; one more level must fail.
    let t = tempfile::tempdir().unwrap();
    let max = soiree_spk::limits::MAX_DIR_DEPTH as usize;
    let spk = save_payload(
        t.path(),
        "max.spk",
        &signed_payload(&key(1), &nested_archive(max)),
    );
    soiree_spk::verify(&spk).unwrap();
    let out = t.path().join("out");
    soiree_spk::unpack(&spk, &out).unwrap();
    let leaf: PathBuf = std::iter::repeat_n("d", max).collect::<PathBuf>().join("leaf");
    assert_eq!(std::fs::read(out.join(leaf)).unwrap(), b"bottom");

    let spk = save_payload(
        t.path(),
        "over.spk",
        &signed_payload(&key(1), &nested_archive(max + 1)),
    );
    assert!(matches!(verify_err(&spk), Error::TooDeep(_)));
}

/// Reads word `i` of the single segment of a framed one-segment message.
fn word(msg: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(msg[8 + 8 * i..16 + 8 * i].try_into().unwrap())
}

fn set_word(msg: &mut [u8], i: usize, w: u64) {
    msg[8 + 8 * i..16 + 8 * i].copy_from_slice(&w.to_le_bytes());
}

/// Where an intra-segment pointer at word `at` points.
fn target(msg: &[u8], at: usize) -> usize {
    let off = (word(msg, at) as u32 as i32) >> 2;
    (at as i64 + 1 + i64::from(off)) as usize
}

#[test]
fn files_sharing_one_data_blob_exceed_the_traversal_limit() {
    // Two `File`s whose content pointers lead to the same bytes: every object may be read only
    // once (the traversal limit is the archive's own size), so `spk unpack` fails on this.
    let t = tempfile::tempdir().unwrap();
    let blob = vec![0x42u8; 4096];
    let m = good_manifest();
    let mut msg = archive_with(
        Builder::new(HeapAllocator::new().first_segment_words(4096)),
        &[
            ("sandstorm-manifest", E::Reg(&m)),
            ("first", E::Reg(&blob)),
            ("second", E::Reg(b"")),
        ],
    );
    assert_eq!(msg[..4], [0, 0, 0, 0], "one segment");
    // Word 0: root pointer → Archive struct (no data, one pointer) → List(File).
    let archive_struct = target(&msg, 0);
    let list_ptr = archive_struct;
    let tag = target(&msg, list_ptr);
    assert_eq!(word(&msg, tag) >> 2 & 0x3fff_ffff, 3, "three elements in the tag");
    // Each File is 2 data words + 2 pointers; the content pointer is the 4th word.
    let content = |i: usize| tag + 1 + 4 * i + 3;
    let first_data = target(&msg, content(1));
    assert_eq!(word(&msg, content(1)) >> 35, blob.len() as u64);
    // Point `second` at `first`'s bytes: byte list (element size 2), same length.
    let off = first_data as i64 - (content(2) as i64 + 1);
    let ptr = (((off as u32) << 2) as u64) | 1 | (2 << 32) | ((blob.len() as u64) << 35);
    set_word(&mut msg, content(2), ptr);

    // The patched message is well-formed: a reader without a traversal limit sees both files.
    {
        let mut opts = capnp::message::ReaderOptions::new();
        opts.traversal_limit_in_words(None);
        let r = capnp::serialize::read_message_from_flat_slice(&mut &msg[..], opts).unwrap();
        let files = r.get_root::<archive::Reader>().unwrap().get_files().unwrap();
        for i in [1, 2] {
            match files.get(i).which().unwrap() {
                archive::file::Regular(d) => assert_eq!(d.unwrap(), &blob[..]),
                _ => panic!("not regular"),
            }
        }
    }

    let spk = save_payload(t.path(), "shared.spk", &signed_payload(&key(1), &msg));
    let err = verify_err(&spk);
    assert!(
        matches!(&err, Error::MalformedArchive { path, reason } if path == "second" && reason.contains("limit")),
        "{err:?}"
    );
    let err = unpack_fails_cleanly(&spk, &t.path().join("u"));
    assert!(matches!(err, Error::MalformedArchive { .. }), "{err:?}");
}

/// A single-segment archive message (so pointers can be patched by hand).
fn flat_archive(entries: &[(&str, E)]) -> Vec<u8> {
    let msg = archive_with(
        Builder::new(HeapAllocator::new().first_segment_words(8192)),
        entries,
    );
    assert_eq!(msg[..4], [0, 0, 0, 0], "one segment");
    msg
}

/// Word index of the `i`th `File` of the top-level list of a flat archive.
fn top_file(msg: &[u8], i: usize) -> usize {
    let tag = target(msg, target(msg, 0));
    tag + 1 + 4 * i
}

fn signed_spk(dir: &Path, name: &str, archive: &[u8]) -> PathBuf {
    save_payload(dir, name, &signed_payload(&key(1), archive))
}

#[test]
fn unknown_file_type_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let m = good_manifest();
    let mut msg = flat_archive(&[("sandstorm-manifest", E::Reg(&m)), ("x", E::Reg(b"data"))]);
    // The union discriminant is the u16 at byte 0 of the File's data section.
    let x = top_file(&msg, 1);
    let tagged = word(&msg, x) & !0xffff | 9;
    set_word(&mut msg, x, tagged);
    let spk = signed_spk(t.path(), "unknown.spk", &msg);
    let err = verify_err(&spk);
    assert!(
        matches!(&err, Error::MalformedArchive { path, reason } if path == "x" && reason.contains("unknown")),
        "{err:?}"
    );
    assert!(matches!(
        unpack_fails_cleanly(&spk, &t.path().join("u")),
        Error::MalformedArchive { .. }
    ));

    // The same on the manifest entry itself.
    let mut msg = flat_archive(&[("sandstorm-manifest", E::Reg(&m))]);
    let mf = top_file(&msg, 0);
    let tagged = word(&msg, mf) & !0xffff | 4;
    set_word(&mut msg, mf, tagged);
    let spk = signed_spk(t.path(), "unknown-manifest.spk", &msg);
    assert!(matches!(verify_err(&spk), Error::ManifestNotRegular));
}

#[test]
fn out_of_bounds_pointers_are_rejected() {
    let t = tempfile::tempdir().unwrap();
    let m = good_manifest();
    let entries = || {
        vec![
            ("sandstorm-manifest", E::Reg(&m[..])),
            ("d", E::Dir(vec![("f", E::Reg(&b"in d"[..]))])),
            ("g", E::Reg(&b"content"[..])),
        ]
    };
    // The content pointer of `d` (a list), of `g` (data), and the name pointer of `g`.
    for (file, ptr, path) in [(1, 3, "d"), (2, 3, "g"), (2, 2, "")] {
        let mut msg = flat_archive(&entries());
        let at = top_file(&msg, file) + ptr;
        let w = word(&msg, at);
        set_word(&mut msg, at, w & !0xffff_fffc | (0x0200_0000 << 2));
        let spk = signed_spk(t.path(), "oob.spk", &msg);
        let err = verify_err(&spk);
        assert!(
            matches!(&err, Error::MalformedArchive { path: p, .. } if p == path),
            "{file}/{ptr}: {err:?}"
        );
        let err = unpack_fails_cleanly(&spk, &t.path().join("u"));
        assert!(matches!(err, Error::MalformedArchive { .. }), "{err:?}");
    }
}

#[test]
fn name_without_nul_terminator_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let m = good_manifest();
    let mut msg = flat_archive(&[("sandstorm-manifest", E::Reg(&m)), ("abcdefg", E::Reg(b"x"))]);
    // "abcdefg\0" fills exactly one word; replace the NUL.
    let name = target(&msg, top_file(&msg, 1) + 2);
    assert_eq!(&msg[8 + 8 * name..16 + 8 * name], b"abcdefg\0");
    msg[8 + 8 * name + 7] = b'h';
    let spk = signed_spk(t.path(), "nul.spk", &msg);
    let err = verify_err(&spk);
    assert!(matches!(err, Error::MalformedArchive { .. }), "{err:?}");
    assert!(matches!(
        unpack_fails_cleanly(&spk, &t.path().join("u")),
        Error::MalformedArchive { .. }
    ));
}

#[test]
fn directory_that_contains_itself_is_rejected_without_overflow() {
    // `loop`'s content pointer is patched to lead back to the top-level list, so the tree is
    // infinitely deep; the traversal or nesting limit must end the walk.
    let t = tempfile::tempdir().unwrap();
    let m = good_manifest();
    let mut msg = flat_archive(&[
        ("sandstorm-manifest", E::Reg(&m)),
        ("loop", E::Dir(vec![("x", E::Reg(b"x"))])),
    ]);
    let tag = target(&msg, target(&msg, 0));
    let at = top_file(&msg, 1) + 3;
    let off = tag as i64 - (at as i64 + 1);
    // A composite list (element size 7) of 2 Files = 8 words, at the top-level tag.
    set_word(
        &mut msg,
        at,
        (((off as u32) << 2) as u64) | 1 | (7 << 32) | (8 << 35),
    );
    let spk = signed_spk(t.path(), "loop.spk", &msg);
    let err = verify_err(&spk);
    assert!(
        matches!(err, Error::MalformedArchive { .. } | Error::TooDeep(_)),
        "{err:?}"
    );
    let err = unpack_fails_cleanly(&spk, &t.path().join("u"));
    assert!(
        matches!(err, Error::MalformedArchive { .. } | Error::TooDeep(_)),
        "{err:?}"
    );
}

#[test]
fn archive_message_cut_short_is_rejected() {
    // Correctly signed, but the archive's segment table promises more than follows.
    let t = tempfile::tempdir().unwrap();
    let full = archive_with_manifest(vec![("a", E::Reg(b"aaaa"))]);
    for len in [0, 4, 8, 16, full.len() - 8] {
        let spk = signed_spk(t.path(), "short.spk", &full[..len]);
        let err = verify_err(&spk);
        assert!(
            matches!(err, Error::BadMessage { what: "Archive", .. }),
            "{len}: {err:?}"
        );
        assert!(matches!(
            unpack_fails_cleanly(&spk, &t.path().join("u")),
            Error::BadMessage { what: "Archive", .. }
        ));
    }
    // A segment table claiming 2^32 segments.
    let mut huge = full.clone();
    huge[..4].copy_from_slice(&[0xff; 4]);
    let spk = signed_spk(t.path(), "segments.spk", &huge);
    assert!(matches!(
        verify_err(&spk),
        Error::BadMessage { what: "Archive", .. }
    ));
}

#[test]
fn archive_root_of_the_wrong_kind_is_rejected() {
    // The root pointer is a list pointer, not a struct pointer.
    let t = tempfile::tempdir().unwrap();
    let mut msg = flat_archive(&[]);
    let w = word(&msg, 0);
    set_word(&mut msg, 0, (w & !3) | 1 | (2 << 32) | (3 << 35));
    let spk = signed_spk(t.path(), "root.spk", &msg);
    let err = verify_err(&spk);
    assert!(
        matches!(err, Error::BadMessage { what: "Archive", .. }),
        "{err:?}"
    );
}

#[test]
fn malformed_signature_message_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    let archive = archive_with_manifest(vec![]);
    let good = soiree_spk::signature::sign(&key(1), &sha512(&archive));
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // 2^32 segments; one segment of 2^30 words (over the signature's small traversal limit).
    cases.push((
        "segments",
        [&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0][..], &good[8..]].concat(),
    ));
    cases.push(("size", [&[0, 0, 0, 0, 0, 0, 0, 0x40][..], &good[8..]].concat()));
    // The root pointer is a list, not a struct.
    let mut list_root = good.clone();
    list_root[8..16].copy_from_slice(&(1u64 | (2 << 32) | (8 << 35)).to_le_bytes());
    cases.push(("list root", list_root));
    // The public key pointer leads outside the message.
    let mut oob = good.clone();
    let pk = 2; // root pointer, then the Signature struct's two pointers
    let w = u64::from_le_bytes(oob[8 + 8 * pk..16 + 8 * pk].try_into().unwrap());
    oob[8 + 8 * pk..16 + 8 * pk].copy_from_slice(&(w & !0xffff_fffc | (0x0100_0000 << 2)).to_le_bytes());
    cases.push(("out of bounds", oob));
    for (what, sig) in cases {
        let spk = save_payload(t.path(), "sig.spk", &[sig, archive.clone()].concat());
        let err = verify_err(&spk);
        assert!(
            matches!(
                err,
                Error::BadMessage {
                    what: "Signature",
                    ..
                }
            ),
            "{what}: {err:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Size
// ---------------------------------------------------------------------------------------------

/// One xz stream of `n` zero bytes, streamed through the encoder (never held in memory).
fn xz_zeros(n: u64) -> Vec<u8> {
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 0);
    let chunk = vec![0u8; 1 << 20];
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len() as u64) as usize;
        xz.write_all(&chunk[..k]).unwrap();
        left -= k as u64;
    }
    xz.finish().unwrap()
}

// SLOW-ISH (~10 s): each of the two reads below decompresses, hashes and spools 1 GiB of zeros.
// Nothing big is built: the package is concatenated xz streams (which `xz -dc` and the reader
// accept), each of 256 MiB of zeros compressed to ~40 KB.
#[test]
fn archive_over_one_gib_is_rejected() {
    let t = tempfile::tempdir().unwrap();
    const QUARTER: u64 = 1 << 28;
    assert_eq!(4 * QUARTER, soiree_spk::limits::MAX_ARCHIVE_SIZE);
    let zeros = xz_zeros(QUARTER);
    // A valid signature, over a digest that is not the archive's: the size check comes first,
    // so a mismatch (not ArchiveTooBig) proves the archive was accepted as far as its size.
    let sig = soiree_spk::signature::sign(&key(1), &sha512(b"not the archive"));
    let head = spk_from_payload(&sig);

    // Exactly 1 GiB after the signature: allowed by the size rule.
    let mut exact = head.clone();
    for _ in 0..4 {
        exact.extend_from_slice(&zeros);
    }
    let spk = save(t.path(), "exact.spk", &exact);
    let err = open_err(&spk);
    assert!(matches!(err, Error::DigestMismatch), "{err:?}");

    // 1 GiB + 1 byte and then 3 GiB more: rejected, and reading stops at 1 GiB + 1.
    let mut over = exact;
    over.extend_from_slice(&spk_from_payload(&[0])[8..]);
    for _ in 0..12 {
        over.extend_from_slice(&zeros);
    }
    let spk = save(t.path(), "over.spk", &over);
    let started = std::time::Instant::now();
    let err = verify_err(&spk);
    assert!(
        matches!(err, Error::ArchiveTooBig { limit } if limit == 1 << 30),
        "{err:?}"
    );
    // (`unpack` reads through the same `open`; not repeated here to keep the test short.)
    eprintln!("rejecting a 4 GiB archive took {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Archives from other writers: many segments
// ---------------------------------------------------------------------------------------------

/// Builds an archive where every object lands in its own segment, reached by far pointers.
fn fragmented_archive(files: usize) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let m = good_manifest();
    let contents: Vec<(String, Vec<u8>)> = (0..files)
        .map(|i| {
            (
                format!("file-{i:04}"),
                format!("contents of file {i}\n").repeat(i % 7 + 1).into_bytes(),
            )
        })
        .collect();
    let b = Builder::new(
        HeapAllocator::new()
            .first_segment_words(1)
            .allocation_strategy(AllocationStrategy::FixedSize),
    );
    let dir: Vec<(&str, E)> = contents
        .iter()
        .map(|(n, c)| (n.as_str(), if c.len() % 2 == 0 { E::Reg(c) } else { E::Exe(c) }))
        .collect();
    let archive = archive_with(
        b,
        &[
            ("sandstorm-manifest", E::Reg(&m)),
            ("data", E::Dir(dir)),
            ("link", E::Link("data/file-0000")),
        ],
    );
    (archive, contents)
}

fn segment_count(msg: &[u8]) -> u32 {
    u32::from_le_bytes(msg[..4].try_into().unwrap()) + 1
}

fn check_fragmented(files: usize) -> u32 {
    let t = tempfile::tempdir().unwrap();
    let (archive, contents) = fragmented_archive(files);
    let segments = segment_count(&archive);
    let spk = save_payload(t.path(), "fragmented.spk", &signed_payload(&key(3), &archive));
    let v = soiree_spk::verify(&spk).unwrap();
    assert_eq!(v.stats.segments, u64::from(segments));
    assert_eq!(v.stats.files, files as u64 + 1);
    assert_eq!(v.manifest.title.as_deref(), Some("Test App"));
    let out = t.path().join("out");
    let opened = soiree_spk::unpack(&spk, &out).unwrap();
    assert_eq!(opened.app_id, key(3).app_id());
    for (name, data) in &contents {
        let path = out.join("data").join(name);
        assert_eq!(&std::fs::read(&path).unwrap(), data, "{name}");
        use std::os::unix::fs::PermissionsExt;
        let exec = std::fs::metadata(&path).unwrap().permissions().mode() & 0o100 != 0;
        assert_eq!(exec, data.len() % 2 == 1, "{name}");
    }
    assert_eq!(
        std::fs::read(out.join("sandstorm-manifest")).unwrap(),
        good_manifest()
    );
    assert_eq!(
        std::fs::read_link(out.join("link")).unwrap(),
        Path::new("data/file-0000")
    );
    segments
}

#[test]
fn multi_segment_archive_with_far_pointers_is_accepted() {
    let segments = check_fragmented(20);
    assert!(segments > 20, "{segments} segments");
}

#[test]
fn archive_with_more_than_512_segments_is_accepted() {
    let (archive, _) = fragmented_archive(400);
    assert!(
        segment_count(&archive) > 512,
        "{} segments",
        segment_count(&archive)
    );
    // The capnp crate's own readers refuse this message; Sandstorm's FlatArrayMessageReader,
    // and ours, do not.
    let words = soiree_spk::message::aligned(&archive);
    assert!(capnp::serialize::read_message_from_flat_slice(
        &mut capnp::Word::words_to_bytes(&words),
        capnp::message::ReaderOptions::new()
    )
    .is_err());
    assert!(check_fragmented(400) > 512);
}

// ---------------------------------------------------------------------------------------------
// Unpack
// ---------------------------------------------------------------------------------------------

#[test]
fn unpack_refuses_an_existing_target_and_leaves_it_alone() {
    let t = tempfile::tempdir().unwrap();
    let spk = save_payload(t.path(), "ok.spk", &valid_package_payload());
    let target = t.path().join("target");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"precious").unwrap();
    let err = unpack_err(&spk, &target);
    assert!(matches!(&err, Error::TargetExists(p) if *p == target), "{err:?}");
    assert_eq!(listing(&target), ["keep"]);
    assert_eq!(std::fs::read(target.join("keep")).unwrap(), b"precious");

    // A plain file, and a dangling symlink, count as existing too.
    let file = t.path().join("file");
    std::fs::write(&file, b"also precious").unwrap();
    assert!(matches!(unpack_err(&spk, &file), Error::TargetExists(_)));
    assert_eq!(std::fs::read(&file).unwrap(), b"also precious");
    let dangling = t.path().join("dangling");
    let pointee = t.path().join("nowhere");
    std::os::unix::fs::symlink(&pointee, &dangling).unwrap();
    assert!(matches!(unpack_err(&spk, &dangling), Error::TargetExists(_)));
    assert!(
        pointee.symlink_metadata().is_err(),
        "unpack created the symlink's target"
    );
    assert_eq!(
        listing(t.path()),
        ["dangling", "file", "ok.spk", "target"],
        "no stray staging directories"
    );
}

#[test]
fn unpack_creates_absolute_symlinks_but_never_writes_through_them() {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("victim"), b"untouched").unwrap();
    let outside_str = outside.to_str().unwrap();
    let victim = outside.join("victim");
    let archive = archive_with_manifest(vec![
        ("d", E::Dir(vec![("x", E::Link(outside_str))])),
        ("v", E::Link(victim.to_str().unwrap())),
    ]);
    let spk = save_payload(t.path(), "links.spk", &signed_payload(&key(1), &archive));
    soiree_spk::verify(&spk).unwrap();
    let out = t.path().join("out");
    soiree_spk::unpack(&spk, &out).unwrap();
    assert_eq!(std::fs::read_link(out.join("d/x")).unwrap(), outside);
    assert_eq!(std::fs::read_link(out.join("v")).unwrap(), victim);
    assert_eq!(listing(&outside), ["victim"]);
    assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");

    // A later entry of the same name (to write through the link) is a duplicate, refused
    // before anything in that directory is created.
    let archive = archive_with_manifest(vec![(
        "d",
        E::Dir(vec![
            ("x", E::Link(outside_str)),
            ("x", E::Dir(vec![("pwned", E::Reg(b"gotcha"))])),
        ]),
    )]);
    let spk = save_payload(t.path(), "through.spk", &signed_payload(&key(1), &archive));
    let err = unpack_fails_cleanly(&spk, &t.path().join("u"));
    assert!(matches!(err, Error::DuplicateFileName(_)), "{err:?}");
    assert_eq!(listing(&outside), ["victim"]);
    let archive = archive_with_manifest(vec![
        ("v", E::Link(victim.to_str().unwrap())),
        ("v", E::Reg(b"gotcha")),
    ]);
    let spk = save_payload(t.path(), "overwrite.spk", &signed_payload(&key(1), &archive));
    assert!(matches!(
        unpack_fails_cleanly(&spk, &t.path().join("u")),
        Error::DuplicateFileName(_)
    ));
    assert_eq!(std::fs::read(&victim).unwrap(), b"untouched");
}

#[test]
fn failed_unpack_leaves_no_target_and_no_staging_directory() {
    let t = tempfile::tempdir().unwrap();
    let mut big = vec![0u8; 300_000];
    big[12345] = 1;
    // Fails late: after a manifest, a big file and a directory tree have been written.
    let archive = archive_with_manifest(vec![
        ("big", E::Reg(&big)),
        (
            "tree",
            E::Dir(vec![("a", E::Dir(vec![("b", E::Exe(b"#!/bin/sh"))]))]),
        ),
        ("zzz", E::Dir(vec![("ok", E::Reg(b"1")), ("..", E::Reg(b"2"))])),
    ]);
    let spk = save_payload(t.path(), "late.spk", &signed_payload(&key(1), &archive));
    let parent = t.path().join("parent");
    let err = unpack_fails_cleanly(&spk, &parent);
    assert!(matches!(err, Error::InvalidFileName { .. }), "{err:?}");

    // Fails early (the signature): the parent is never populated either.
    let mut bytes = std::fs::read(&spk).unwrap();
    bytes[0] ^= 0xff;
    let spk = save(t.path(), "early.spk", &bytes);
    assert!(matches!(unpack_fails_cleanly(&spk, &parent), Error::BadMagic));
    assert!(!listing(t.path()).iter().any(|n| n.starts_with(".soiree-unpack-")));
}

// ---------------------------------------------------------------------------------------------
// Keyrings
// ---------------------------------------------------------------------------------------------

fn keyring_err(bytes: &[u8]) -> Error {
    match soiree_spk::keys::parse_keyring(bytes, Path::new("test-keyring")) {
        Ok(keys) => panic!("parsed {} keys from a bad keyring", keys.len()),
        Err(e) => e,
    }
}

fn key_file(public: &[u8], private: &[u8]) -> Vec<u8> {
    let mut b = Builder::new_default();
    {
        let mut root = b.init_root::<key_file::Builder>();
        root.set_public_key(public);
        root.set_private_key(private);
    }
    capnp::serialize::write_message_to_words(&b)
}

#[test]
fn garbage_keyring_is_corrupt() {
    let mut x: u32 = 12345;
    let garbage: Vec<u8> = (0..256)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    for bytes in [&garbage[..], &[0xff; 64], b"this is a text file, not keys!!\n"] {
        let err = keyring_err(bytes);
        assert!(matches!(err, Error::CorruptKeyring { offset: 0, .. }), "{err:?}");
    }
}

#[test]
fn keyring_of_7_bytes_is_corrupt() {
    let good = key(1).to_key_file();
    let err = keyring_err(&good[..7]);
    assert!(matches!(err, Error::CorruptKeyring { .. }), "{err:?}");
    // A good key followed by 7 stray bytes.
    let err = keyring_err(&[&good[..], &good[..7]].concat());
    assert!(matches!(err, Error::CorruptKeyring { .. }), "{err:?}");
}

#[test]
fn keyring_with_mismatched_halves_is_corrupt() {
    let a = key(1);
    let b = key(2);
    let seed_a = [1u8; 32];
    let seed_b = [2u8; 32];
    let (pa, pb) = (a.app_id().0, b.app_id().0);
    // Sanity: the honest form parses.
    let honest = key_file(&pa, &[&seed_a[..], &pa[..]].concat());
    assert_eq!(
        soiree_spk::keys::parse_keyring(&honest, Path::new("k"))
            .unwrap()
            .len(),
        1
    );
    for (public, private) in [
        (pa, [&seed_b[..], &pa[..]].concat()), // seed of another key
        (pa, [&seed_b[..], &pb[..]].concat()), // the whole private half of another key
        (pa, [&seed_a[..], &pb[..]].concat()), // wrong public copy in the private half
        (pb, [&seed_a[..], &pa[..]].concat()), // public field of another key
    ] {
        let err = keyring_err(&key_file(&public, &private));
        assert!(
            matches!(&err, Error::CorruptKeyring { offset: 0, reason, .. } if reason.contains("does not match")),
            "{err:?}"
        );
    }
    // Wrong sizes.
    for (public, private) in [
        (&pa[..31], [&seed_a[..], &pa[..]].concat()),
        (&pa[..], seed_a.to_vec()),
    ] {
        let err = keyring_err(&key_file(public, &private));
        assert!(matches!(err, Error::CorruptKeyring { .. }), "{err:?}");
    }
}
