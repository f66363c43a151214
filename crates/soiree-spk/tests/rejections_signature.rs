//! Rejections of the verifier and the unpacker, each shown with a crafted bad package: the signature.

mod common;
use common::craft::*;
use common::*;

use soiree_spk::{AppId, Error, PackageId};

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
