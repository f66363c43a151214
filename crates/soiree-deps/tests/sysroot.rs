//! Closures computed inside another root: every lookup (ld.so.conf and its includes, default
//! directories, symlinks, absolute or with `..`) stays inside it.

mod common;

use std::path::{Path, PathBuf};

use soiree_deps::{closure, Error, Options, Via};

fn options(root: &Path) -> Options {
    Options {
        root: root.to_path_buf(),
        ..Options::default()
    }
}

/// A root in the shape of a small foreign system: the program in /usr/bin, its libraries in
/// /opt/sys/lib (a directory only ld.so.conf names), the loader behind an absolute symlink, no
/// /etc/ld.so.cache.
fn fake_root(program: &Path) -> tempfile::TempDir {
    let host = closure(&[program], &Options::default()).unwrap();
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    let name = program.file_name().unwrap().to_str().unwrap();
    common::copy_into(
        r,
        &std::fs::canonicalize(program).unwrap(),
        &format!("/usr/bin/{name}"),
    );
    for object in host.objects.values() {
        if object.path == program {
            continue;
        }
        let file = object.path.file_name().unwrap().to_str().unwrap();
        common::copy_into(
            r,
            &host.root.join(object.real.strip_prefix("/").unwrap()),
            &format!("/opt/sys/lib/{file}"),
        );
    }
    common::symlink(
        r,
        "/opt/sys/lib/ld-linux-x86-64.so.2",
        "/lib64/ld-linux-x86-64.so.2",
    );
    std::fs::create_dir_all(r.join("etc/ld.so.conf.d")).unwrap();
    std::fs::write(
        r.join("etc/ld.so.conf"),
        "# comment\ninclude ld.so.conf.d/*.conf\n",
    )
    .unwrap();
    std::fs::write(r.join("etc/ld.so.conf.d/10-none.conf"), "/opt/none/lib/\n").unwrap();
    std::fs::write(
        r.join("etc/ld.so.conf.d/20-sys.conf"),
        "/opt/sys/lib  # the libraries\n",
    )
    .unwrap();
    std::fs::write(r.join("etc/ld.so.conf.d/ignored.txt"), "/opt/wrong\n").unwrap();
    root
}

#[test]
fn resolves_through_ld_so_conf_inside_the_root_only() {
    let redis = common::redis();
    let root = fake_root(&redis);
    let r = root.path();
    assert!(!r.join("etc/ld.so.cache").exists());
    let c = closure(&["/usr/bin/redis-server"], &options(r)).unwrap();

    for entry in c.entries.values() {
        assert!(
            entry.host_path.starts_with(r),
            "{} escapes the root",
            entry.host_path.display()
        );
        assert!(
            entry.path.starts_with("/opt/sys/lib")
                || entry.path.starts_with("/usr/bin")
                || entry.path.starts_with("/lib64"),
            "{}",
            entry.path.display()
        );
    }
    let libc = &c.objects[Path::new("/opt/sys/lib/libc.so.6")];
    assert!(libc
        .reasons
        .iter()
        .any(|r| matches!(&r.how, soiree_deps::How::Needed { via: Via::Conf, .. })));
    let loader = &c.objects[Path::new("/lib64/ld-linux-x86-64.so.2")];
    assert_eq!(loader.real, Path::new("/opt/sys/lib/ld-linux-x86-64.so.2"));
    assert_eq!(
        loader.symlinks,
        vec![PathBuf::from("/lib64/ld-linux-x86-64.so.2")]
    );
    // The package's loader reads no ld.so.conf: say so.
    assert!(
        c.warnings.iter().any(|w| w.contains("/opt/sys/lib")),
        "{:?}",
        c.warnings
    );

    // The same set of libraries as on the host, by name.
    let host = closure(&[&redis], &Options::default()).unwrap();
    let names = |c: &soiree_deps::Closure| -> Vec<String> {
        let mut v: Vec<String> = c
            .objects
            .keys()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let mut host_names = names(&host);
    host_names.retain(|n| n != "redis-server");
    let mut root_names = names(&c);
    root_names.retain(|n| n != "redis-server");
    assert_eq!(root_names, host_names);
}

#[test]
fn absolute_and_dotdot_symlinks_never_leave_the_root() {
    let root = fake_root(Path::new("/bin/sh"));
    let r = root.path();
    // An absolute symlink to a library that exists on the host but not in the root.
    let libc = r.join("opt/sys/lib/libc.so.6");
    std::fs::remove_file(&libc).unwrap();
    std::os::unix::fs::symlink("/usr/lib/x86_64-linux-gnu/libc.so.6", &libc).unwrap();
    let err = closure(&["/usr/bin/sh"], &options(r)).unwrap_err();
    assert!(
        matches!(&err, Error::BrokenSymlink { link, .. } if link == Path::new("/opt/sys/lib/libc.so.6")),
        "{err:?}"
    );

    // `..` past the root stays at the root.
    std::fs::remove_file(&libc).unwrap();
    std::os::unix::fs::symlink(
        "../../../../../../../../usr/lib/x86_64-linux-gnu/libc.so.6",
        &libc,
    )
    .unwrap();
    let err = closure(&["/usr/bin/sh"], &options(r)).unwrap_err();
    assert!(matches!(err, Error::BrokenSymlink { .. }), "{err:?}");

    // Pointing inside the root, both work.
    common::copy_into(
        r,
        Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6"),
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
    );
    let c = closure(&["/usr/bin/sh"], &options(r)).unwrap();
    let object = &c.objects[Path::new("/opt/sys/lib/libc.so.6")];
    assert_eq!(object.real, Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6"));
    std::fs::remove_file(&libc).unwrap();
    std::os::unix::fs::symlink("/usr/lib/x86_64-linux-gnu/libc.so.6", &libc).unwrap();
    let c = closure(&["/usr/bin/sh"], &options(r)).unwrap();
    assert_eq!(
        c.objects[Path::new("/opt/sys/lib/libc.so.6")].real,
        Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6")
    );
}

#[test]
fn default_directories_and_merged_usr_symlinks_inside_the_root() {
    // Debian's layout, built by hand: /lib → usr/lib, libraries in the multiarch directory,
    // no cache and no ld.so.conf, so only the default directories can find them.
    let host = closure(&["/bin/sh"], &Options::default()).unwrap();
    let root = tempfile::tempdir().unwrap();
    common::copy_closure(&host, root.path(), |_| false);
    let c = closure(&["/bin/sh"], &options(root.path())).unwrap();
    let libc = &c.objects[Path::new("/lib/x86_64-linux-gnu/libc.so.6")];
    assert_eq!(libc.real, Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6"));
    assert_eq!(libc.symlinks, vec![PathBuf::from("/lib")]);
    assert!(libc.reasons.iter().any(|r| matches!(
        &r.how,
        soiree_deps::How::Needed {
            via: Via::Default,
            ..
        }
    )));
    // Same entries as on the host, read from the root.
    let paths = |c: &soiree_deps::Closure| c.entries.keys().cloned().collect::<Vec<_>>();
    assert_eq!(paths(&c), paths(&host));
}

#[test]
fn a_library_for_another_machine_is_passed_over() {
    let root = fake_root(Path::new("/bin/sh"));
    let r = root.path();
    // An aarch64 "libc" in a directory searched first: ld.so skips it; so does the closure.
    let mut bytes = std::fs::read("/usr/lib/x86_64-linux-gnu/libc.so.6").unwrap();
    bytes[18..20].copy_from_slice(&183u16.to_le_bytes());
    std::fs::create_dir_all(r.join("opt/none/lib")).unwrap();
    std::fs::write(r.join("opt/none/lib/libc.so.6"), &bytes).unwrap();
    let c = closure(&["/usr/bin/sh"], &options(r)).unwrap();
    assert!(c.objects.contains_key(Path::new("/opt/sys/lib/libc.so.6")));
    assert!(!c.objects.contains_key(Path::new("/opt/none/lib/libc.so.6")));

    // With the right one gone, the error says what was skipped.
    std::fs::remove_file(r.join("opt/sys/lib/libc.so.6")).unwrap();
    let err = closure(&["/usr/bin/sh"], &options(r)).unwrap_err();
    match err {
        Error::LibraryNotFound { help, .. } => {
            assert!(
                help.contains("skipped /opt/none/lib/libc.so.6: built for another architecture"),
                "{help}"
            )
        }
        other => panic!("expected LibraryNotFound, got {other:?}"),
    }
}

#[test]
fn the_roots_own_ld_so_cache_is_used_and_packed_when_needed() {
    let root = fake_root(Path::new("/bin/sh"));
    let r = root.path();
    // ldconfig itself, run for the root, writes the root's cache from its ld.so.conf.
    std::fs::create_dir_all(r.join("var/cache/ldconfig")).unwrap();
    common::tool("ldconfig", &["-r", r.to_str().unwrap()], "libc-bin");
    assert!(r.join("etc/ld.so.cache").exists());
    // A decoy where the cache no longer looks: the cache wins over ld.so.conf.
    std::fs::write(r.join("etc/ld.so.conf.d/05-first.conf"), "/opt/decoy\n").unwrap();
    common::copy_into(
        r,
        Path::new("/usr/lib/x86_64-linux-gnu/libc.so.6"),
        "/opt/decoy/libc.so.6",
    );

    let c = closure(&["/usr/bin/sh"], &options(r)).unwrap();
    let libc = &c.objects[Path::new("/opt/sys/lib/libc.so.6")];
    assert!(libc
        .reasons
        .iter()
        .any(|r| matches!(&r.how, soiree_deps::How::Needed { via: Via::Cache, .. })));
    // /opt/sys/lib is not a directory ld.so searches by itself: the cache goes in the package.
    let cache = &c.objects[Path::new("/etc/ld.so.cache")];
    assert_eq!(cache.reasons[0].how, soiree_deps::How::LoaderCache);
    assert!(c.entries.contains_key(Path::new("/etc/ld.so.cache")));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let why = c.why(Path::new("/etc/ld.so.cache")).unwrap().to_string();
    assert!(why.contains("only through /etc/ld.so.cache"), "{why}");
}
