//! `verify` refuses exactly what `unpack` cannot create, and `unpack` creates what `verify`
//! accepts: names longer than 255 bytes and symlinks whose target is empty, holds a NUL or is
//! longer than 4095 bytes are refused by both (and by `pack`); a deep tree whose full paths are
//! longer than `PATH_MAX` is accepted by both.

mod common;
use common::*;

use std::path::Path;

use sha2::Digest;
use soiree_spk::{Dir, Entry, Error, Node};

fn symlink(target: &[u8]) -> Entry {
    Entry {
        node: Node::Symlink {
            target: target.to_vec(),
        },
        mtime_ns: 0,
    }
}

fn with_manifest(mut dir: Dir) -> Dir {
    dir.entries.insert(
        b"sandstorm-manifest".to_vec(),
        Entry::bytes(manifest_bytes(&ManifestSpec::default()), false, 0),
    );
    dir
}

/// `dir` as a signed package, written without `pack`'s checks.
fn package(at: &Path, dir: &Dir) -> std::path::PathBuf {
    let mut archive = Vec::new();
    soiree_spk::encode::write_archive(dir, &mut archive).unwrap();
    let digest: [u8; 64] = sha2::Sha512::digest(&archive).into();
    let signature = soiree_spk::signature::sign(&key(1), &digest);
    let path = at.join("p.spk");
    std::fs::write(&path, spk_from_payload(&[signature, archive].concat())).unwrap();
    path
}

fn names(dir: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    found
}

/// Both `verify` and `unpack` refuse `dir` with the same error, `check` holds for it, `pack`'s
/// limit check refuses it too, and the failed unpack leaves nothing.
fn refused_by_both(dir: Dir, check: impl Fn(&Error) -> bool) {
    let t = tempfile::tempdir().unwrap();
    let dir = with_manifest(dir);
    let spk = package(t.path(), &dir);
    let verified = soiree_spk::verify(&spk).err().expect("verify must refuse it");
    assert!(check(&verified), "verify: {verified:?}");
    let unpacked = soiree_spk::unpack(&spk, &t.path().join("out"))
        .err()
        .expect("unpack must refuse it");
    assert_eq!(format!("{unpacked:?}"), format!("{verified:?}"));
    assert_eq!(names(t.path()), ["p.spk"], "a failed unpack leaves nothing");
    let packed = soiree_spk::encode::check_limits(&dir).expect_err("pack must refuse it");
    assert!(check(&packed), "pack: {packed:?}");
}

#[test]
fn a_name_longer_than_255_bytes_is_refused_by_verify_and_unpack() {
    let mut top = Dir::default();
    top.entries
        .insert(vec![b'n'; 300], Entry::bytes(b"x".to_vec(), false, 0));
    refused_by_both(top, |e| matches!(e, Error::NameTooLong { len: 300, .. }));

    let mut sub = Dir::default();
    sub.entries.insert(vec![b'n'; 256], symlink(b"x"));
    let mut top = Dir::default();
    top.entries.insert(
        b"sub".to_vec(),
        Entry {
            node: Node::Dir(sub),
            mtime_ns: 0,
        },
    );
    refused_by_both(
        top,
        |e| matches!(e, Error::NameTooLong { dir, len: 256, .. } if dir == "sub"),
    );
}

#[test]
fn a_name_of_255_bytes_is_fine() {
    let t = tempfile::tempdir().unwrap();
    let mut top = Dir::default();
    top.entries
        .insert(vec![b'n'; 255], Entry::bytes(b"x".to_vec(), false, 0));
    let spk = package(t.path(), &with_manifest(top));
    soiree_spk::verify(&spk).unwrap();
    soiree_spk::unpack(&spk, &t.path().join("out")).unwrap();
    let long = String::from_utf8(vec![b'n'; 255]).unwrap();
    assert_eq!(std::fs::read(t.path().join("out").join(long)).unwrap(), b"x");
}

#[test]
fn symlinks_with_an_empty_nul_or_overlong_target_are_refused_by_verify_and_unpack() {
    for (target, reason) in [
        (b"".to_vec(), "empty"),
        (b"a\0b".to_vec(), "NUL"),
        (vec![b'a'; 4096], "4096 bytes"),
    ] {
        let mut top = Dir::default();
        top.entries.insert(b"link".to_vec(), symlink(&target));
        refused_by_both(
            top,
            |e| matches!(e, Error::InvalidSymlink { path, reason: r } if path == "link" && r.contains(reason)),
        );
    }
}

#[test]
fn a_tree_deeper_than_path_max_verifies_and_unpacks() {
    let t = tempfile::tempdir().unwrap();
    let mut dir = Dir::default();
    dir.entries
        .insert(b"leaf".to_vec(), Entry::bytes(b"deep".to_vec(), false, 0));
    dir.entries.insert(b"link".to_vec(), symlink(&[b'l'; 4095]));
    // 30 levels of 250-byte names: every path below level 17 is longer than PATH_MAX.
    for level in 0..30u8 {
        let mut up = Dir::default();
        let mut name = vec![b'd'; 249];
        name.push(b'a' + level % 26);
        up.entries.insert(
            name,
            Entry {
                node: Node::Dir(dir),
                mtime_ns: 0,
            },
        );
        dir = up;
    }
    let spk = package(t.path(), &with_manifest(dir));
    let verified = soiree_spk::verify(&spk).unwrap();
    assert_eq!(verified.stats.directories, 30);
    let out = t.path().join("out");
    soiree_spk::unpack(&spk, &out).unwrap();
    // Down the tree one directory at a time, as no full path can reach the bottom.
    let mut here = std::fs::File::open(&out).unwrap();
    for level in (0..30u8).rev() {
        let mut name = "d".repeat(249);
        name.push((b'a' + level % 26) as char);
        here = open_at(&here, &name, libc::O_DIRECTORY);
    }
    let link = std::ffi::CString::new("link").unwrap();
    let mut buf = vec![0u8; 5000];
    // SAFETY: a valid directory descriptor, C string and buffer of that length.
    let n = unsafe {
        libc::readlinkat(
            std::os::fd::AsRawFd::as_raw_fd(&here),
            link.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    assert_eq!(n, 4095);
    let mut leaf = open_at(&here, "leaf", 0);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut leaf, &mut text).unwrap();
    assert_eq!(text, "deep");
}

fn open_at(dir: &std::fs::File, name: &str, flags: libc::c_int) -> std::fs::File {
    use std::os::fd::{AsRawFd, FromRawFd};
    let c = std::ffi::CString::new(name).unwrap();
    // SAFETY: a valid directory descriptor and C string; the result is checked.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_RDONLY | libc::O_NOFOLLOW | flags,
        )
    };
    assert!(fd >= 0, "openat {name}: {}", std::io::Error::last_os_error());
    // SAFETY: fd was just opened and is ours.
    unsafe { std::fs::File::from_raw_fd(fd) }
}
