//! Rejections of the verifier and the unpacker, each shown with a crafted bad package: structure: nesting and shared objects.

mod common;
use common::craft::*;
use common::*;

use std::path::{Path, PathBuf};

use capnp::message::{Builder, HeapAllocator};
use soiree_schema::archive_capnp::archive;
use soiree_spk::Error;

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
