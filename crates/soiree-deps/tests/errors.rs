//! A missing library, a broken symlink and a malformed ELF file each give their own error,
//! naming the file and who needed it.

mod common;

use std::path::Path;

use soiree_deps::{closure, elf::ElfInfo, Error, Options};

fn options(root: &Path) -> Options {
    Options {
        root: root.to_path_buf(),
        ..Options::default()
    }
}

/// A root holding the closure of `program` from this machine, minus what `skip` rejects.
fn root_with(program: &str, skip: impl Fn(&Path) -> bool) -> tempfile::TempDir {
    let c = closure(&[program], &Options::default()).unwrap();
    let root = tempfile::tempdir().unwrap();
    common::copy_closure(&c, root.path(), skip);
    root
}

#[test]
fn a_missing_library_names_the_chain_that_needed_it() {
    let redis = common::redis();
    // libgpg-error is needed by libgcrypt, which libsystemd needs, which redis-server needs.
    let root = root_with(redis.to_str().unwrap(), |p| {
        p.to_string_lossy().contains("libgpg-error")
    });
    let err = closure(&[&redis], &options(root.path())).unwrap_err();
    let text = err.to_string();
    match err {
        Error::LibraryNotFound { name, needed_by, .. } => {
            assert_eq!(name, "libgpg-error.so.0");
            assert_eq!(
                needed_by,
                "/usr/bin/redis-server → libsystemd.so.0 (/lib/x86_64-linux-gnu/libsystemd.so.0) \
                 → libgcrypt.so.20 (/lib/x86_64-linux-gnu/libgcrypt.so.20)"
            );
        }
        other => panic!("expected LibraryNotFound, got {other:?}"),
    }
    assert!(text.contains("needs libgpg-error.so.0"), "{text}");

    let mut opts = options(root.path());
    opts.optional.insert("libgpg-error.so.0".into());
    let c = closure(&[&redis], &opts).unwrap();
    assert_eq!(c.missing[0].name, "libgpg-error.so.0");
    assert_eq!(
        c.missing[0].needed_by,
        Path::new("/lib/x86_64-linux-gnu/libgcrypt.so.20")
    );
}

#[test]
fn a_broken_library_symlink_is_named() {
    // libcap.so.2 is a symlink to libcap.so.2.66 on this machine; leave the target out.
    let redis = common::redis();
    let root = root_with(redis.to_str().unwrap(), |p| {
        p.to_string_lossy().contains("libcap.so.2.")
    });
    let link = root.path().join("usr/lib/x86_64-linux-gnu/libcap.so.2");
    assert!(link.is_symlink(), "this machine's libcap.so.2 is a symlink");
    let err = closure(&[&redis], &options(root.path())).unwrap_err();
    match err {
        Error::BrokenSymlink {
            link, target, what, ..
        } => {
            assert_eq!(link, Path::new("/usr/lib/x86_64-linux-gnu/libcap.so.2"));
            assert!(target.to_string_lossy().starts_with("libcap.so.2."), "{target:?}");
            assert!(
                what.starts_with("libcap.so.2, needed by /usr/bin/redis-server"),
                "{what}"
            );
        }
        other => panic!("expected BrokenSymlink, got {other:?}"),
    }
}

#[test]
fn a_broken_program_symlink_is_named() {
    let root = tempfile::tempdir().unwrap();
    common::symlink(root.path(), "redis-check-rdb", "/usr/bin/redis-server");
    let err = closure(&["/usr/bin/redis-server"], &options(root.path())).unwrap_err();
    assert!(
        matches!(&err, Error::BrokenSymlink { link, target, .. }
            if link == Path::new("/usr/bin/redis-server") && target == Path::new("redis-check-rdb")),
        "{err:?}"
    );
    assert!(err.to_string().contains("is a broken symlink"), "{err}");
}

#[test]
fn a_truncated_program_is_malformed_not_a_panic() {
    let root = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(common::godot()).unwrap();
    let bin = root.path().join("usr/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("godot3-server"), &bytes[..4096]).unwrap();
    let err = closure(&["/usr/bin/godot3-server"], &options(root.path())).unwrap_err();
    match &err {
        Error::MalformedElf { path, reason } => {
            assert_eq!(path, Path::new("/usr/bin/godot3-server"));
            assert!(
                reason.contains("PT_DYNAMIC") || reason.contains("outside"),
                "{reason}"
            );
        }
        other => panic!("expected MalformedElf, got {other:?}"),
    }
}

#[test]
fn a_truncated_library_is_malformed() {
    let root = root_with("/bin/sh", |_| false);
    let libc = root.path().join("usr/lib/x86_64-linux-gnu/libc.so.6");
    let bytes = std::fs::read(&libc).unwrap();
    std::fs::write(&libc, &bytes[..100]).unwrap();
    let err = closure(&["/bin/sh"], &options(root.path())).unwrap_err();
    assert!(
        matches!(&err, Error::MalformedElf { path, .. }
            if path == Path::new("/lib/x86_64-linux-gnu/libc.so.6")),
        "{err:?}"
    );
}

#[test]
fn no_prefix_or_corruption_of_a_real_binary_panics() {
    let bytes = std::fs::read("/bin/sh").unwrap();
    let shown = Path::new("/bin/sh");
    for len in (0..bytes.len().min(16384)).step_by(7) {
        let _ = ElfInfo::parse(&bytes[..len], shown);
    }
    // Flip bytes in the headers one at a time.
    for at in 0..bytes.len().min(2048) {
        let mut copy = bytes.clone();
        copy[at] ^= 0xff;
        let _ = ElfInfo::parse(&copy, shown);
    }
    assert!(ElfInfo::parse(&bytes, shown).is_ok());
}

#[test]
fn a_missing_program_or_interpreter_is_named() {
    let root = tempfile::tempdir().unwrap();
    let err = closure(&["/usr/bin/nothing"], &options(root.path())).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    common::copy_into(root.path(), Path::new("/bin/sh"), "/usr/bin/dash");
    let script = root.path().join("app/run");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(&script, "#!/usr/bin/python3\nprint('hi')\n").unwrap();
    let err = closure(&["/app/run"], &options(root.path())).unwrap_err();
    match err {
        Error::NotFound { path, what, .. } => {
            assert_eq!(path, Path::new("/usr/bin/python3"));
            assert!(what.contains("interpreter of /app/run"), "{what}");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }

    std::fs::write(&script, "#!/usr/bin/env no-such-tool\n").unwrap();
    common::copy_into(root.path(), Path::new("/usr/bin/env"), "/usr/bin/env");
    let err = closure(&["/app/run"], &options(root.path())).unwrap_err();
    assert!(
        matches!(&err, Error::NotOnPath { name, .. } if name == "no-such-tool"),
        "{err:?}"
    );
}
