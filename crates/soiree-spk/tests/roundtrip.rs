//! pack → verify → unpack round trips, reproducibility and re-signing.

mod common;
use common::*;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use soiree_spk::TreeError;
use soiree_spk::{Compression, Error};

fn assert_same_tree(a: &Path, b: &Path) {
    let list = |root: &Path| -> Vec<String> {
        let mut v: Vec<String> = walkdir::WalkDir::new(root)
            .min_depth(1)
            .sort_by_file_name()
            .into_iter()
            .map(|e| {
                e.unwrap()
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        v.sort();
        v
    };
    let names = list(a);
    let mut expected = names.clone();
    for extra in ["dev", "proc", "proc/cpuinfo", "tmp", "var"] {
        if !expected.contains(&extra.to_string()) {
            expected.push(extra.into());
        }
    }
    expected.sort();
    assert_eq!(list(b), expected);
    for name in &names {
        let (pa, pb) = (a.join(name), b.join(name));
        let (ma, mb) = (pa.symlink_metadata().unwrap(), pb.symlink_metadata().unwrap());
        assert_eq!(ma.file_type(), mb.file_type(), "{name}");
        if ma.file_type().is_symlink() {
            assert_eq!(
                std::fs::read_link(&pa).unwrap(),
                std::fs::read_link(&pb).unwrap(),
                "{name}"
            );
        } else if ma.is_file() {
            assert_eq!(std::fs::read(&pa).unwrap(), std::fs::read(&pb).unwrap(), "{name}");
            assert_eq!(
                ma.mode() & 0o100 != 0,
                mb.mode() & 0o100 != 0,
                "executable bit of {name}"
            );
        }
    }
}

#[test]
fn pack_verify_unpack_round_trip() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    sample_tree(&app);
    let spk = t.path().join("app.spk");
    let written = pack_dir(&app, &key(1), &spk);
    assert_eq!(written.app_id, key(1).app_id());
    assert_eq!(written.size, std::fs::metadata(&spk).unwrap().len());

    let v = soiree_spk::verify(&spk).unwrap();
    assert_eq!(v.opened.app_id, key(1).app_id());
    assert_eq!(v.opened.package_id, written.package_id);
    assert_eq!(v.opened.archive_sha512, written.archive_sha512);
    assert_eq!(v.manifest.title.as_deref(), Some("Test App"));
    assert_eq!(v.manifest.app_version, 7);
    assert_eq!(v.manifest.marketing_version.as_deref(), Some("1.2.3"));
    assert_eq!(v.stats.symlinks, 2);

    let out = t.path().join("unpacked");
    let opened = soiree_spk::unpack(&spk, &out).unwrap();
    assert_eq!(opened.package_id, written.package_id);
    assert_same_tree(&app, &out);
    // spk's modes: regular 0666 & ~umask, executable 0777 & ~umask.
    let mode = |p: &str| out.join(p).metadata().unwrap().permissions().mode();
    assert_ne!(mode("bin/app") & 0o100, 0);
    assert_eq!(mode("share/doc/readme.txt") & 0o111, 0);
    // mtimes come from the archive (clamped to the epoch the helper packs with).
    let mtime = out
        .join("share/doc/readme.txt")
        .symlink_metadata()
        .unwrap()
        .mtime();
    assert_eq!(mtime, 1_700_000_000);
    assert_eq!(out.join("proc/cpuinfo").metadata().unwrap().len(), 0);
}

#[test]
fn package_id_is_sha256_prefix_and_app_id_is_signer() {
    use sha2::Digest;
    let t = tempfile::tempdir().unwrap();
    sample_tree(&t.path().join("app"));
    let spk = t.path().join("a.spk");
    let w = pack_dir(&t.path().join("app"), &key(2), &spk);
    let sha = sha2::Sha256::digest(std::fs::read(&spk).unwrap());
    assert_eq!(
        w.package_id.to_string(),
        data_encoding::HEXLOWER.encode(&sha[..16])
    );
}

#[test]
fn payload_is_signature_then_archive_and_signature_is_combined_mode() {
    use ed25519_dalek::Verifier;
    use sha2::Digest;
    let t = tempfile::tempdir().unwrap();
    sample_tree(&t.path().join("app"));
    let spk = t.path().join("a.spk");
    pack_dir(&t.path().join("app"), &key(3), &spk);
    let bytes = std::fs::read(&spk).unwrap();
    assert_eq!(bytes[..8], soiree_schema::SPK_MAGIC);
    let payload = xz_payload(&spk);
    let (sig, archive) = split_first_message(&payload);
    assert_eq!(sig.len(), 192, "a minimal Signature message is 192 bytes");
    let words = soiree_spk::message::aligned(sig);
    let msg = capnp::serialize::read_message_from_flat_slice(
        &mut capnp::Word::words_to_bytes(&words),
        Default::default(),
    )
    .unwrap();
    let root = msg
        .get_root::<soiree_schema::archive_capnp::signature::Reader>()
        .unwrap();
    let public: [u8; 32] = root.get_public_key().unwrap().try_into().unwrap();
    let signature = root.get_signature().unwrap();
    assert_eq!(signature.len(), 128);
    let digest = sha2::Sha512::digest(archive);
    assert_eq!(&signature[64..], &digest[..]);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
    let s = ed25519_dalek::Signature::from_slice(&signature[..64]).unwrap();
    vk.verify(&digest, &s).unwrap();
    // One single-segment archive message and nothing after it.
    let (first, rest) = split_first_message(archive);
    assert_eq!(first.len(), archive.len());
    assert!(rest.is_empty());
    assert_eq!(archive[..4], [0, 0, 0, 0], "single segment");
}

#[test]
fn entries_are_sorted_bytewise_and_mount_points_present() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    write(
        &app.join("sandstorm-manifest"),
        &manifest_bytes(&ManifestSpec::default()),
    );
    for name in ["b", "B", "a", "_", "aa", "Z", "é"] {
        write(&app.join("d").join(name), name.as_bytes());
    }
    let spk = t.path().join("a.spk");
    pack_dir(&app, &key(4), &spk);
    let opened = soiree_spk::open(&spk).unwrap();
    let msg = opened.archive_message().unwrap();
    let root = msg
        .get_root::<soiree_schema::archive_capnp::archive::Reader>()
        .unwrap();
    let names =
        |l: capnp::struct_list::Reader<soiree_schema::archive_capnp::archive::file::Owned>| -> Vec<Vec<u8>> {
            l.iter()
                .map(|f| f.get_name().unwrap().as_bytes().to_vec())
                .collect()
        };
    let top = root.get_files().unwrap();
    let top_names = names(top);
    assert_eq!(
        top_names,
        ["d", "dev", "proc", "sandstorm-manifest", "tmp", "var"].map(|s| s.as_bytes().to_vec())
    );
    let d = match top.get(0).which().unwrap() {
        soiree_schema::archive_capnp::archive::file::Directory(d) => d.unwrap(),
        _ => panic!("d is a directory"),
    };
    let mut sorted = names(d);
    sorted.sort();
    assert_eq!(names(d), sorted);
    assert_eq!(names(d)[0], b"B");
}

#[test]
fn reproducible_from_two_paths_at_two_times() {
    let t = tempfile::tempdir().unwrap();
    let (a, b) = (t.path().join("first/app"), t.path().join("second/elsewhere/app"));
    sample_tree(&a);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    sample_tree(&b);
    let epoch = Some(1_600_000_000_000_000_000);
    let pack = |root: &Path, out: &Path| {
        let tree = soiree_spk::scan_for_packing(root, epoch).unwrap();
        soiree_spk::pack(&tree, &key(5), out, Compression::default()).unwrap()
    };
    let (x, y) = (t.path().join("x.spk"), t.path().join("y.spk"));
    let wx = pack(&a, &x);
    let wy = pack(&b, &y);
    assert_eq!(std::fs::read(&x).unwrap(), std::fs::read(&y).unwrap());
    assert_eq!(wx.package_id, wy.package_id);
    // Without an epoch the real mtimes go in, so the packages differ.
    let tree_a = soiree_spk::scan_for_packing(&a, None).unwrap();
    let tree_b = soiree_spk::scan_for_packing(&b, None).unwrap();
    assert_ne!(tree_a, tree_b);
}

#[test]
fn mtimes_are_clamped_not_replaced() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    sample_tree(&app);
    let old = filetime::FileTime::from_unix_time(1_000_000_000, 0);
    filetime::set_file_mtime(app.join("share/doc/readme.txt"), old).unwrap();
    let tree = soiree_spk::scan_for_packing(&app, Some(1_500_000_000_000_000_000)).unwrap();
    let entry = tree.get("share/doc/readme.txt").unwrap();
    assert_eq!(entry.mtime_ns, 1_000_000_000_000_000_000);
    assert_eq!(tree.get("bin/app").unwrap().mtime_ns, 1_500_000_000_000_000_000);
    assert_eq!(tree.get("var").unwrap().mtime_ns, 1_500_000_000_000_000_000);
}

#[test]
fn resigning_keeps_the_archive_stream_byte_for_byte() {
    let t = tempfile::tempdir().unwrap();
    sample_tree(&t.path().join("app"));
    let (a, b) = (t.path().join("a.spk"), t.path().join("b.spk"));
    let wa = pack_dir(&t.path().join("app"), &key(6), &a);
    let (_, wb) = soiree_spk::sign::resign(&a, &key(7), &b).unwrap();
    assert_eq!(wb.app_id, key(7).app_id());
    assert_ne!(wa.package_id, wb.package_id);
    let (ba, bb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The archive stream is the tail after the signature stream; both signature streams have
    // the same length (same message size), so the tails line up.
    let tail = ba.len() - 8 - sig_stream_len(&ba);
    assert_eq!(ba[ba.len() - tail..], bb[bb.len() - tail..]);
    let v = soiree_spk::verify(&b).unwrap();
    assert_eq!(v.opened.app_id, key(7).app_id());
    assert_eq!(v.opened.archive_sha512, wa.archive_sha512);
    // Re-signing in place (output = input) works and keeps the file valid.
    soiree_spk::sign::resign(&b, &key(6), &b).unwrap();
    assert_eq!(std::fs::read(&b).unwrap(), ba, "signing is deterministic");
}

/// Length of the first xz stream after the magic (up to the next xz header magic).
fn sig_stream_len(spk: &[u8]) -> usize {
    let body = &spk[8..];
    body.windows(6)
        .skip(1)
        .position(|w| w == [0xfd, b'7', b'z', b'X', b'Z', 0])
        .unwrap()
        + 1
}

#[test]
fn resigning_a_single_stream_package_recompresses_it() {
    let t = tempfile::tempdir().unwrap();
    sample_tree(&t.path().join("app"));
    let a = t.path().join("a.spk");
    pack_dir(&t.path().join("app"), &key(8), &a);
    // Rewrite as one xz stream, as Sandstorm's own `spk pack` does.
    let single = spk_from_payload(&xz_payload(&a));
    let s = t.path().join("single.spk");
    std::fs::write(&s, single).unwrap();
    let before = soiree_spk::verify(&s).unwrap();
    let out = t.path().join("out.spk");
    soiree_spk::sign::resign(&s, &key(9), &out).unwrap();
    let after = soiree_spk::verify(&out).unwrap();
    assert_eq!(after.opened.archive_sha512, before.opened.archive_sha512);
    assert_eq!(after.opened.app_id, key(9).app_id());
}

#[test]
fn special_files_are_refused_by_name() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    sample_tree(&app);
    let fifo = app.join("share/pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc_mkfifo(c.as_ptr(), 0o644) }, 0);
    match soiree_spk::scan_for_packing(&app, None) {
        Err(Error::Tree(TreeError::UnsupportedFileType { path, kind })) => {
            assert_eq!(path, fifo);
            assert_eq!(kind, "fifo");
        }
        other => panic!("expected UnsupportedFileType, got {other:?}"),
    }
    let sock_path = app.join("sock");
    std::fs::remove_file(&fifo).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind(&sock_path).unwrap();
    assert!(matches!(
        soiree_spk::scan_for_packing(&app, None),
        Err(Error::Tree(TreeError::UnsupportedFileType { kind: "socket", .. }))
    ));
}

extern "C" {
    #[link_name = "mkfifo"]
    fn libc_mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
}

#[test]
fn limits_are_checked_before_packing_and_name_the_file() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    sample_tree(&app);
    // A sparse 512 MiB file costs no disk.
    let big = std::fs::File::create(app.join("share/huge.bin")).unwrap();
    big.set_len(512 << 20).unwrap();
    let tree = soiree_spk::scan_for_packing(&app, None).unwrap();
    let out = t.path().join("a.spk");
    match soiree_spk::pack(&tree, &key(1), &out, Compression::default()) {
        Err(Error::FileTooBig { path, size }) => {
            assert_eq!(path, "share/huge.bin");
            assert_eq!(size, 512 << 20);
        }
        other => panic!("expected FileTooBig, got {other:?}"),
    }
    assert!(!out.exists(), "nothing is written when a limit is hit");
    // Three files just under the per-file limit exceed the 1 GiB archive limit.
    big.set_len((512 << 20) - 1).unwrap();
    for name in ["h2", "h3"] {
        std::fs::File::create(app.join(name))
            .unwrap()
            .set_len((512 << 20) - 1)
            .unwrap();
    }
    let tree = soiree_spk::scan_for_packing(&app, None).unwrap();
    assert!(matches!(
        soiree_spk::pack(&tree, &key(1), &out, Compression::default()),
        Err(Error::ArchiveTooBig { .. })
    ));
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("app")],
        "no temp files left behind"
    );
}

#[test]
fn manifest_limits_and_required_fields_at_pack_time() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    sample_tree(&app);
    let out = t.path().join("a.spk");
    let try_manifest = |spec: ManifestSpec| {
        write(&app.join("sandstorm-manifest"), &manifest_bytes(&spec));
        let tree = soiree_spk::scan_for_packing(&app, None).unwrap();
        soiree_spk::pack(&tree, &key(1), &out, Compression::default())
    };
    for spec in [
        ManifestSpec {
            title: None,
            ..Default::default()
        },
        ManifestSpec {
            marketing: None,
            ..Default::default()
        },
        ManifestSpec {
            max_api_version: 1,
            ..Default::default()
        },
        ManifestSpec {
            website: Some("ftp://example.org"),
            ..Default::default()
        },
    ] {
        assert!(matches!(try_manifest(spec), Err(Error::InvalidManifest(_))));
    }
    std::fs::File::create(app.join("sandstorm-manifest"))
        .unwrap()
        .set_len((8 << 20) + 8)
        .unwrap();
    let tree = soiree_spk::scan_for_packing(&app, None).unwrap();
    assert!(matches!(
        soiree_spk::pack(&tree, &key(1), &out, Compression::default()),
        Err(Error::ManifestTooBig { .. })
    ));
    std::fs::remove_file(app.join("sandstorm-manifest")).unwrap();
    let tree = soiree_spk::scan_for_packing(&app, None).unwrap();
    assert!(matches!(
        soiree_spk::pack(&tree, &key(1), &out, Compression::default()),
        Err(Error::NoManifest)
    ));
}

#[test]
fn a_file_that_changes_while_packing_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    sample_tree(&app);
    let tree = soiree_spk::scan_for_packing(&app, None).unwrap();
    std::fs::write(app.join("share/doc/readme.txt"), b"grown since the scan\n").unwrap();
    let err = soiree_spk::pack(&tree, &key(1), &t.path().join("a.spk"), Compression::default()).unwrap_err();
    assert!(matches!(err, Error::Tree(TreeError::FileChanged { .. })), "{err}");
    // Replaced by a symlink after the scan: never followed.
    sample_tree(&t.path().join("app2"));
    let tree = soiree_spk::scan_for_packing(&t.path().join("app2"), None).unwrap();
    let victim = t.path().join("app2/share/doc/readme.txt");
    std::fs::remove_file(&victim).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &victim).unwrap();
    let err = soiree_spk::pack(&tree, &key(1), &t.path().join("b.spk"), Compression::default()).unwrap_err();
    assert!(matches!(err, Error::Tree(TreeError::FileChanged { .. })), "{err}");
}

#[test]
fn deep_trees_pack_up_to_the_depth_limit() {
    let t = tempfile::tempdir().unwrap();
    let app = t.path().join("app");
    write(
        &app.join("sandstorm-manifest"),
        &manifest_bytes(&ManifestSpec::default()),
    );
    let mut deep = app.clone();
    for _ in 0..soiree_spk::limits::MAX_DIR_DEPTH {
        deep.push("d");
    }
    write(&deep.join("leaf"), b"leaf");
    let spk = t.path().join("a.spk");
    pack_dir(&app, &key(1), &spk);
    soiree_spk::verify(&spk).unwrap();
    soiree_spk::unpack(&spk, &t.path().join("out")).unwrap();
    deep.push("d");
    write(&deep.join("leaf"), b"too deep");
    let tree = soiree_spk::scan_for_packing(&app, None).unwrap();
    assert!(matches!(
        soiree_spk::pack(&tree, &key(1), &t.path().join("b.spk"), Compression::default()),
        Err(Error::TooDeep(_))
    ));
}

#[test]
fn single_threaded_and_fast_compression_verify_too() {
    let t = tempfile::tempdir().unwrap();
    sample_tree(&t.path().join("app"));
    let tree = soiree_spk::scan_for_packing(&t.path().join("app"), Some(0)).unwrap();
    for (i, c) in [
        Compression {
            threads: 1,
            ..Compression::default()
        },
        Compression::fast(),
    ]
    .into_iter()
    .enumerate()
    {
        let out = t.path().join(format!("{i}.spk"));
        soiree_spk::pack(&tree, &key(1), &out, c).unwrap();
        soiree_spk::verify(&out).unwrap();
    }
}
