//! Rejections of the verifier and the unpacker, each shown with a crafted bad package: unpack, and keyrings.

mod common;
use common::craft::*;
use common::*;

use std::path::Path;

use capnp::message::Builder;
use soiree_schema::archive_capnp::key_file;
use soiree_spk::Error;

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
