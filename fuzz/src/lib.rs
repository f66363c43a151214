//! Shared code of the fuzz targets: a private temp directory per fuzzing process, the
//! verify-then-unpack check, and wrapping fuzzed archive bytes as a correctly signed package.
//!
//! Panics here are findings, not error handling: this crate only runs under libFuzzer.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::Digest;
use soiree_spk::read::ArchiveStats;
use soiree_spk::KeyPair;

static PRIVATE_TMP: OnceLock<PathBuf> = OnceLock::new();

/// Points `TMPDIR` at a fresh directory of this process, so anything soiree-spk creates in the
/// temp area (its anonymous archive file, its unpack staging) can be seen and checked.
pub fn init() {
    let dir = tempfile::Builder::new()
        .prefix("soiree-fuzz-")
        .tempdir()
        .expect("a private temp dir")
        .keep();
    // Called once from libFuzzer's init hook, before any other thread reads the environment.
    std::env::set_var("TMPDIR", &dir);
    let _ = PRIVATE_TMP.set(dir);
}

fn private_tmp() -> &'static Path {
    PRIVATE_TMP.get().expect("init() ran")
}

fn names(dir: &Path) -> BTreeSet<OsString> {
    std::fs::read_dir(dir)
        .expect("list a scratch dir")
        .map(|e| e.expect("a dir entry").file_name())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<OsString> {
    items.iter().map(OsString::from).collect()
}

/// Counts an unpacked tree the way `verify` counts the archive, never following symlinks. Each
/// directory is reached through its open descriptor (`/proc/self/fd/N/name`), since unpack
/// creates trees whose full paths are longer than `PATH_MAX`.
fn count_tree(dir: &std::fs::File, stats: &mut ArchiveStats) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let here = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
    for entry in std::fs::read_dir(&here).expect("list an unpacked dir") {
        let entry = entry.expect("a dir entry");
        let path = here.join(entry.file_name());
        let meta = path.symlink_metadata().expect("stat an unpacked entry");
        if meta.is_symlink() {
            stats.symlinks += 1;
        } else if meta.is_dir() {
            stats.directories += 1;
            let sub = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
                .open(&path)
                .expect("open an unpacked dir");
            count_tree(&sub, stats);
        } else if meta.is_file() {
            stats.files += 1;
            stats.bytes += meta.len();
        } else {
            panic!("unpack created a special file: {}", path.display());
        }
    }
}

/// Verifies `spk_bytes` as a file; when that succeeds, unpacks it into a fresh directory and
/// checks that nothing appeared outside the target, and that the target holds what `verify`
/// counted. A failed unpack must leave nothing behind.
pub fn verify_and_unpack(spk_bytes: &[u8]) {
    let scratch = tempfile::tempdir_in(private_tmp()).expect("a scratch dir");
    let scratch_name = scratch
        .path()
        .file_name()
        .expect("a temp dir name")
        .to_os_string();
    let spk = scratch.path().join("input.spk");
    std::fs::write(&spk, spk_bytes).expect("write the input");
    let Ok(verified) = soiree_spk::verify(&spk) else {
        return;
    };
    let out = scratch.path().join("out");
    let unpacked = soiree_spk::unpack(&spk, &out);
    let outside = names(private_tmp());
    assert_eq!(
        outside,
        [scratch_name].into(),
        "unpack wrote beside the scratch dir"
    );
    match unpacked {
        Ok(opened) => {
            assert_eq!(opened.package_id, verified.opened.package_id);
            assert_eq!(
                names(scratch.path()),
                set(&["input.spk", "out"]),
                "unpack wrote outside its target"
            );
            let mut seen = ArchiveStats::default();
            count_tree(&std::fs::File::open(&out).expect("open the target"), &mut seen);
            let want = ArchiveStats {
                segments: 0,
                ..verified.stats
            };
            assert_eq!(seen, want, "the unpacked tree differs from what verify counted");
        }
        Err(_) => {
            assert_eq!(
                names(scratch.path()),
                set(&["input.spk"]),
                "a failed unpack left files behind"
            );
        }
    }
}

/// `MAGIC ‖ xz(Signature) ‖ xz(archive)`, signed with a fixed key, as soiree-pack writes it.
pub fn signed_package(archive: &[u8]) -> Vec<u8> {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    let key = KEY.get_or_init(|| KeyPair::from_seed(&[1u8; 32]));
    let digest: [u8; 64] = sha2::Sha512::digest(archive).into();
    let signature = soiree_spk::signature::sign(key, &digest);
    let mut out = soiree_schema::SPK_MAGIC.to_vec();
    for part in [signature.as_slice(), archive] {
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 0);
        xz.write_all(part).expect("xz into memory");
        out.extend_from_slice(&xz.finish().expect("xz into memory"));
    }
    out
}
