//! Rejections of the verifier and the unpacker, each shown with a crafted bad package: the container: magic and xz.

mod common;
use common::craft::*;
use common::*;

use soiree_spk::Error;

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
