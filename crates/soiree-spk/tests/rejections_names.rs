//! Rejections of the verifier and the unpacker, each shown with a crafted bad package: file names.

mod common;
use common::craft::*;
use common::*;

use soiree_spk::Error;

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
