//! `verify` and `unpack` memory stays at a few blocks per worker, whatever the package expands
//! to: a small package of many xz blocks that expand to 960 MiB of zeros is verified and unpacked
//! by the real `soiree-pack` and its peak resident memory (`wait4`'s `ru_maxrss`) is bounded.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use soiree_schema::manifest_capnp::manifest;
use soiree_spk::{BlockCache, Compression, Dir, Entry, KeyPair, Node, Source};

/// Peak memory allowed to a command. The archive is 960 MiB; a few 4 MiB blocks per worker and
/// the decoder's tables are a few tens of MiB.
const LIMIT_KIB: i64 = 200 << 10;

fn manifest_bytes() -> Vec<u8> {
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_title().set_default_text("Zeros");
        m.reborrow().init_app_marketing_version().set_default_text("1");
        m.init_continue_command().init_argv(1).set(0, "/run");
    }
    capnp::serialize::write_message_to_words(&b)
}

/// A package whose archive holds two sparse files of 480 MiB of zeros, in blocks of 4 MiB.
fn zeros_package(dir: &Path) -> std::path::PathBuf {
    let mut tree = Dir::default();
    tree.entries.insert(
        b"sandstorm-manifest".to_vec(),
        Entry::bytes(manifest_bytes(), false, 0),
    );
    for name in ["a", "b"] {
        let path = dir.join(name);
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(480 << 20).unwrap();
        tree.entries.insert(
            name.as_bytes().to_vec(),
            Entry {
                node: Node::File {
                    source: Source::Path(path),
                    size: 480 << 20,
                    executable: false,
                },
                mtime_ns: 0,
            },
        );
    }
    let spk = dir.join("zeros.spk");
    // Every block is the same 4 MiB of zeros: the cache compresses it once.
    let cache = BlockCache::at(dir.join("cache"));
    soiree_spk::pack_cached(
        &tree,
        &KeyPair::from_seed(&[5; 32]),
        &spk,
        Compression::fast(),
        Some(&cache),
    )
    .unwrap();
    for name in ["a", "b"] {
        std::fs::remove_file(dir.join(name)).unwrap();
    }
    std::fs::remove_dir_all(dir.join("cache")).unwrap();
    spk
}

/// Runs `soiree-pack ARGS`; its exit status and peak resident memory in KiB.
#[allow(clippy::zombie_processes)] // wait4 reaps it, to read its resource usage
fn peak_rss(args: &[&Path]) -> (ExitStatus, i64) {
    let child = Command::new(env!("CARGO_BIN_EXE_soiree-pack"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not yet waited for; both pointers are valid.
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as libc::pid_t);
    // Reaped by wait4 above; dropping the handle does not wait again.
    drop(child);
    (ExitStatus::from_raw(status), usage.ru_maxrss)
}

#[test]
fn verify_and_unpack_of_a_package_that_expands_to_960_mib_stay_small() {
    let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let spk = zeros_package(t.path());
    let size = std::fs::metadata(&spk).unwrap().len();
    assert!(size < 1 << 20, "the package is small: {size} bytes");

    let (status, kib) = peak_rss(&[Path::new("verify"), &spk]);
    assert!(status.success(), "verify failed: {status}");
    eprintln!("verify: peak RSS {} MiB for a {size}-byte package", kib >> 10);
    assert!(kib < LIMIT_KIB, "verify used {} MiB", kib >> 10);

    let out = t.path().join("out");
    let (status, kib) = peak_rss(&[Path::new("unpack"), &spk, &out]);
    assert!(status.success(), "unpack failed: {status}");
    eprintln!("unpack: peak RSS {} MiB", kib >> 10);
    assert_eq!(std::fs::metadata(out.join("b")).unwrap().len(), 480 << 20);
    assert!(kib < LIMIT_KIB, "unpack used {} MiB", kib >> 10);
}
