//! The `Signature` message: Ed25519 over the SHA-512 of the archive message, in libsodium's
//! combined form (signature ‖ digest, 128 bytes), beside the 32-byte public key.

use ed25519_dalek::{Signer, VerifyingKey};
use soiree_schema::archive_capnp::signature;

use crate::error::{Error, Result};
use crate::ids::AppId;
use crate::keys::KeyPair;
use crate::message;

/// The framed `Signature` message for an archive whose SHA-512 is `digest`.
pub fn sign(key: &KeyPair, digest: &[u8; 64]) -> Vec<u8> {
    let sig = key.signing_key().sign(digest).to_bytes();
    let mut combined = [0u8; 128];
    combined[..64].copy_from_slice(&sig);
    combined[64..].copy_from_slice(digest);
    let mut builder = message::single_segment_builder(32);
    {
        let mut root = builder.init_root::<signature::Builder>();
        root.set_public_key(&key.app_id().0);
        root.set_signature(&combined);
    }
    message::to_bytes(&builder)
}

/// Checks a `Signature` like libsodium's `crypto_sign_open` and returns the signer and the
/// signed digest. Rejects non-canonical or small-order keys, small-order R and non-canonical S.
pub fn open(reader: signature::Reader) -> Result<(AppId, [u8; 64])> {
    let public = reader.get_public_key().map_err(Error::message("Signature"))?;
    let sig = reader.get_signature().map_err(Error::message("Signature"))?;
    let public: [u8; 32] = public
        .try_into()
        .map_err(|_| Error::InvalidPublicKey(format!("{} bytes, not 32", public.len())))?;
    if sig.len() != 128 {
        return Err(Error::InvalidSignatureFormat(sig.len()));
    }
    let key =
        VerifyingKey::from_bytes(&public).map_err(|_| Error::InvalidPublicKey("not a curve point".into()))?;
    if key.to_edwards().compress().to_bytes() != public {
        return Err(Error::InvalidPublicKey("non-canonical encoding".into()));
    }
    let mut s = [0u8; 64];
    s.copy_from_slice(&sig[..64]);
    let mut digest = [0u8; 64];
    digest.copy_from_slice(&sig[64..]);
    key.verify_strict(&digest, &ed25519_dalek::Signature::from_bytes(&s))
        .map_err(|_| Error::InvalidSignature)?;
    Ok((AppId(public), digest))
}
