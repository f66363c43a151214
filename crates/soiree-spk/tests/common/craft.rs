//! Crafting bad packages from raw parts: archive messages from the generated bindings, a
//! signature from `soiree_spk::signature::sign`, xz from `spk_from_payload`, so that each package
//! breaks exactly one rule of Sandstorm's `spk verify` / `spk unpack`.
#![allow(dead_code)]

use super::*;
use std::path::{Path, PathBuf};

use capnp::message::{Allocator, Builder};
use sha2::Digest;
use soiree_schema::archive_capnp::{archive, signature as signature_msg};
use soiree_spk::{Error, KeyPair};

/// One archive entry, for crafting archives the packer would never write.
pub enum E<'a> {
    Reg(&'a [u8]),
    Exe(&'a [u8]),
    Link(&'a str),
    Dir(Vec<(&'a str, E<'a>)>),
}

pub fn fill(mut list: capnp::struct_list::Builder<archive::file::Owned>, entries: &[(&str, E)]) {
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

pub fn archive_with<A: Allocator>(mut b: Builder<A>, entries: &[(&str, E)]) -> Vec<u8> {
    let root = b.init_root::<archive::Builder>();
    fill(root.init_files(entries.len() as u32), entries);
    capnp::serialize::write_message_to_words(&b)
}

/// A framed `Archive` message holding exactly `entries`.
pub fn archive_msg(entries: &[(&str, E)]) -> Vec<u8> {
    archive_with(Builder::new_default(), entries)
}

pub fn good_manifest() -> Vec<u8> {
    manifest_bytes(&ManifestSpec::default())
}

/// `entries` after a valid `sandstorm-manifest`.
pub fn archive_with_manifest(entries: Vec<(&str, E)>) -> Vec<u8> {
    let m = good_manifest();
    let mut all = vec![("sandstorm-manifest", E::Reg(&m))];
    all.extend(entries);
    archive_msg(&all)
}

pub fn sha512(bytes: &[u8]) -> [u8; 64] {
    sha2::Sha512::digest(bytes).into()
}

/// `Signature ‖ Archive`, correctly signed by `key`.
pub fn signed_payload(key: &KeyPair, archive: &[u8]) -> Vec<u8> {
    let sig = soiree_spk::signature::sign(key, &sha512(archive));
    [sig, archive.to_vec()].concat()
}

/// A `Signature` message with arbitrary field contents.
pub fn raw_signature(public_key: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut b = Builder::new_default();
    {
        let mut root = b.init_root::<signature_msg::Builder>();
        root.set_public_key(public_key);
        root.set_signature(signature);
    }
    capnp::serialize::write_message_to_words(&b)
}

/// Splits a framed `Signature` message into its public key and 128-byte signature.
pub fn signature_fields(sig_msg: &[u8]) -> (Vec<u8>, Vec<u8>) {
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

pub fn save(dir: &Path, name: &str, spk: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, spk).unwrap();
    path
}

/// Writes `payload` as an .spk (magic ‖ xz) into `dir`.
pub fn save_payload(dir: &Path, name: &str, payload: &[u8]) -> PathBuf {
    save(dir, name, &spk_from_payload(payload))
}

pub fn verify_err(path: &Path) -> Error {
    match soiree_spk::verify(path) {
        Ok(_) => panic!("{} verified, but it must be rejected", path.display()),
        Err(e) => e,
    }
}

pub fn open_err(path: &Path) -> Error {
    match soiree_spk::open(path) {
        Ok(_) => panic!("{} opened, but it must be rejected", path.display()),
        Err(e) => e,
    }
}

pub fn unpack_err(path: &Path, target: &Path) -> Error {
    match soiree_spk::unpack(path, target) {
        Ok(_) => panic!("{} unpacked, but it must be rejected", path.display()),
        Err(e) => e,
    }
}

/// Names in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Unpacks into `parent/out` and checks the failure left nothing behind in `parent`.
pub fn unpack_fails_cleanly(spk: &Path, parent: &Path) -> Error {
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
pub fn valid_package_payload() -> Vec<u8> {
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

/// Reads word `i` of the single segment of a framed one-segment message.
pub fn word(msg: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(msg[8 + 8 * i..16 + 8 * i].try_into().unwrap())
}

pub fn set_word(msg: &mut [u8], i: usize, w: u64) {
    msg[8 + 8 * i..16 + 8 * i].copy_from_slice(&w.to_le_bytes());
}

/// Where an intra-segment pointer at word `at` points.
pub fn target(msg: &[u8], at: usize) -> usize {
    let off = (word(msg, at) as u32 as i32) >> 2;
    (at as i64 + 1 + i64::from(off)) as usize
}
