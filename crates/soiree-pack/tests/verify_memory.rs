//! `verify` and `unpack` memory stays at a few blocks per worker, whatever the package expands
//! to: a small package of many xz blocks that expand to 960 MiB of zeros is verified and unpacked
//! by the real `soiree-pack` and its peak resident memory (`wait4`'s `ru_maxrss`) is bounded; a
//! block header that claims a 1.5 GiB dictionary is refused before liblzma fills one.

use std::io::Write;
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

/// A tree of two sparse files of 480 MiB of zeros (and a manifest); the files live in `dir`.
fn zeros_tree(dir: &Path) -> Dir {
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
    tree
}

/// A package whose archive is [`zeros_tree`], in blocks of 4 MiB.
fn zeros_package(dir: &Path) -> std::path::PathBuf {
    let tree = zeros_tree(dir);
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
    std::fs::remove_dir_all(dir.join("cache")).unwrap();
    spk
}

struct Sha512Sink(sha2::Sha512);

impl Write for Sha512Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(&mut self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// [`zeros_tree`] as one xz stream, as `spk pack` writes a package (the real `xz`, one thread,
/// an 8 MiB dictionary), then its block header made to declare a 1.5 GiB dictionary with its
/// CRC32 fixed: still valid xz that decodes to the same bytes, for which liblzma allocates, and
/// fills, a dictionary as large as the output.
fn big_dictionary_package(dir: &Path) -> std::path::PathBuf {
    let tree = zeros_tree(dir);
    let mut hash = Sha512Sink(sha2::Sha512::default());
    soiree_spk::encode::write_archive(&tree, &mut hash).unwrap();
    let digest: [u8; 64] = sha2::Digest::finalize(hash.0).into();
    let signature = soiree_spk::signature::sign(&KeyPair::from_seed(&[5; 32]), &digest);
    let mut xz = Command::new("xz")
        .args(["-T1", "--lzma2=preset=1,dict=8MiB", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("xz (apt-get install xz-utils)");
    let mut stdin = xz.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        stdin.write_all(&signature).unwrap();
        soiree_spk::encode::write_archive(&tree, std::io::BufWriter::new(stdin)).unwrap();
    });
    let out = xz.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(out.status.success());
    let mut stream = out.stdout;
    // The first block header: size, flags, optional sizes, then the filter flags.
    let header_len = (usize::from(stream[12]) + 1) * 4;
    let flags = stream[13];
    let mut at = 14;
    for present in [flags & 0x40 != 0, flags & 0x80 != 0] {
        if present {
            while stream[at] & 0x80 != 0 {
                at += 1;
            }
            at += 1;
        }
    }
    assert_eq!(flags & 3, 0, "one filter");
    assert_eq!(&stream[at..at + 2], &[0x21, 1], "LZMA2 with one property byte");
    stream[at + 2] = 40; // 1.5 GiB
    let crc = crc32(&stream[12..12 + header_len - 4]);
    stream[12 + header_len - 4..12 + header_len].copy_from_slice(&crc.to_le_bytes());
    let spk = dir.join("big-dictionary.spk");
    std::fs::write(&spk, [soiree_schema::SPK_MAGIC.to_vec(), stream].concat()).unwrap();
    spk
}

/// Runs `soiree-pack ARGS`; its exit status and peak resident memory in KiB.
#[allow(clippy::zombie_processes)] // wait4 reaps it, to read its resource usage
fn peak_rss(args: &[&Path]) -> (ExitStatus, i64) {
    let child = Command::new(env!("CARGO_BIN_EXE_soiree-pack"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
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
    for name in ["a", "b"] {
        std::fs::remove_file(t.path().join(name)).unwrap();
    }
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

#[test]
fn a_block_header_claiming_a_huge_dictionary_is_refused_without_filling_it() {
    let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let spk = big_dictionary_package(t.path());
    let (status, kib) = peak_rss(&[Path::new("verify"), &spk]);
    eprintln!(
        "verify (1.5 GiB dictionary): peak RSS {} MiB, {status}",
        kib >> 10
    );
    assert!(kib < LIMIT_KIB, "verify used {} MiB", kib >> 10);
    assert_eq!(status.code(), Some(1), "refused, not verified");
    let out = Command::new(env!("CARGO_BIN_EXE_soiree-pack"))
        .args([Path::new("verify"), &spk])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("MiB to decompress"), "{stderr}");
}
