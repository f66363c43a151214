//! The package's own files above the root (`Options::package`): programs are package paths,
//! `$ORIGIN` is their directory in the package, the package's libraries win over the root's and
//! are never replaced, and only what the package lacks comes from the root. Checked by running
//! the packed result in bubblewrap with only the package as `/`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use soiree_deps::{closure, programs_in, Options, ProgramOrigin};
use soiree_spk::{Dir, Entry, Node, Source};

/// Places the host file `host` at the in-package path `at`, as a recipe's mapping would.
fn place(tree: &mut Dir, at: &str, host: &Path) {
    let meta = std::fs::metadata(host).unwrap();
    let parts: Vec<&[u8]> = at.trim_start_matches('/').split('/').map(str::as_bytes).collect();
    let (name, parents) = parts.split_last().unwrap();
    let dir = tree.make_dirs(parents, 0).unwrap();
    dir.entries
        .insert(name.to_vec(), Entry::from_disk(host, &meta).unwrap());
}

fn place_bytes(tree: &mut Dir, at: &str, bytes: &[u8], executable: bool) {
    let parts: Vec<&[u8]> = at.trim_start_matches('/').split('/').map(str::as_bytes).collect();
    let (name, parents) = parts.split_last().unwrap();
    let dir = tree.make_dirs(parents, 0).unwrap();
    dir.entries
        .insert(name.to_vec(), Entry::bytes(bytes.to_vec(), executable, 0));
}

/// Built programs and libraries: `libinner.so` whose `inner()` returns `value`; `libgreet.so`
/// (`greet() = inner() + 1`) finding libinner through `DT_RUNPATH` `$ORIGIN`; and `prog`, which
/// exits 0 only if `greet()` is 42, with `runpath` as its `DT_RUNPATH`.
struct Built {
    prog: PathBuf,
    greet: PathBuf,
    inner: PathBuf,
}

fn build(dir: &Path, value: i32, runpath: &str) -> Built {
    std::fs::create_dir_all(dir).unwrap();
    let d = dir.to_str().unwrap();
    common::gcc(
        dir,
        "inner.c",
        &format!("int inner(void) {{ return {value}; }}\n"),
        &[
            "-shared",
            "-fPIC",
            "-Wl,-soname,libinner.so",
            "-o",
            &format!("{d}/libinner.so"),
        ],
    );
    common::gcc(
        dir,
        "greet.c",
        "int inner(void);\nint greet(void) { return inner() + 1; }\n",
        &[
            "-shared",
            "-fPIC",
            "-Wl,-soname,libgreet.so",
            "-o",
            &format!("{d}/libgreet.so"),
            &format!("-L{d}"),
            "-linner",
            "-Wl,--enable-new-dtags,-rpath,$ORIGIN",
        ],
    );
    common::gcc(
        dir,
        "prog.c",
        "int greet(void);\nint main(void) { return greet() == 42 ? 0 : 1; }\n",
        &[
            "-o",
            &format!("{d}/prog"),
            &format!("-L{d}"),
            "-lgreet",
            &format!("-Wl,-rpath-link,{d}"),
            &format!("-Wl,--enable-new-dtags,-rpath,{runpath}"),
        ],
    );
    Built {
        prog: dir.join("prog"),
        greet: dir.join("libgreet.so"),
        inner: dir.join("libinner.so"),
    }
}

/// The program and its two libraries at /opt/app/{bin,lib}.
fn app_tree(b: &Built) -> Dir {
    let mut tree = Dir::default();
    place(&mut tree, "/opt/app/bin/prog", &b.prog);
    place(&mut tree, "/opt/app/lib/libgreet.so", &b.greet);
    place(&mut tree, "/opt/app/lib/libinner.so", &b.inner);
    tree
}

/// Runs `argv` from `tree` packed and unpacked, in bubblewrap with only the package as `/`;
/// `None` when bubblewrap cannot run here.
fn run(tree: Dir, argv: &[&str], env: &[(&str, &str)]) -> Option<std::process::Output> {
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let unpacked = common::pack_tree_and_unpack(tree, argv, work.path());
    Some(common::run_isolated(&unpacked, env, argv))
}

fn options(root: &Path, tree: &Dir) -> Options {
    Options {
        root: root.to_path_buf(),
        package: Some(Arc::new(tree.clone())),
        ..Options::default()
    }
}

#[test]
fn the_packages_own_library_wins_over_the_roots_at_the_same_path() {
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let good = build(&work.path().join("good"), 41, "/opt/app/lib");
    let bad = build(&work.path().join("bad"), 0, "/opt/app/lib");

    // A sysroot with libc and the loader (from /usr/bin/true's closure), and at
    // /opt/app/lib/libinner.so a library that would make the program fail.
    let sysroot = work.path().join("sysroot");
    let host = closure(&["/usr/bin/true"], &Options::default()).unwrap();
    common::copy_closure(&host, &sysroot, |_| false);
    common::copy_into(&sysroot, &bad.inner, "/opt/app/lib/libinner.so");

    let mut tree = app_tree(&good);
    let programs = programs_in(&tree, |_| false).unwrap();
    assert_eq!(
        programs,
        [
            Path::new("/opt/app/bin/prog"),
            Path::new("/opt/app/lib/libgreet.so"),
            Path::new("/opt/app/lib/libinner.so")
        ]
    );

    let c = closure(&programs, &options(&sysroot, &tree)).unwrap();
    let inner = &c.entries[Path::new("/opt/app/lib/libinner.so")];
    assert!(inner.in_package, "the package's own library: {inner:?}");
    assert_eq!(inner.host_path, good.inner);
    let libc = c
        .entries
        .values()
        .find(|e| e.path.file_name().is_some_and(|n| n == "libc.so.6") && !e.in_package)
        .expect("libc from the sysroot");
    assert!(
        libc.host_path.starts_with(&sysroot),
        "{}",
        libc.host_path.display()
    );

    c.add_to_dir(&mut tree, 0).unwrap();
    match &tree.get("opt/app/lib/libinner.so").unwrap().node {
        Node::File {
            source: Source::Path(p),
            ..
        } => assert_eq!(p, &good.inner, "the root's copy must not replace the package's"),
        other => panic!("{other:?}"),
    }
    let argv = ["/opt/app/bin/prog"];
    if let Some(out) = run(tree, &argv, &[]) {
        assert!(
            out.status.success(),
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_programs_origin_needs_proc_self_exe_or_ld_origin_path() {
    // In a grain there is no /proc: `$ORIGIN` in a program's own run path only expands with
    // LD_ORIGIN_PATH. libgreet's `$ORIGIN` (a library's) always does.
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let built = build(work.path(), 41, "$ORIGIN/../lib");
    let tree = app_tree(&built);
    let argv = ["/opt/app/bin/prog"];

    let mut grain = options(Path::new("/"), &tree);
    grain.program_origin = ProgramOrigin::Unknown;
    let err = closure(&argv, &grain).unwrap_err();
    let help = miette::Diagnostic::help(&err)
        .map(|h| h.to_string())
        .unwrap_or_default();
    assert!(err.to_string().contains("libgreet.so"), "{err}");
    assert!(
        help.contains("$ORIGIN/../lib") && help.contains("LD_ORIGIN_PATH"),
        "{help}"
    );
    if let Some(out) = run(tree.clone(), &argv, &[]) {
        assert!(!out.status.success(), "ld.so agrees: no $ORIGIN without /proc");
    }

    let mut with_env = grain.clone();
    with_env.program_origin = ProgramOrigin::Fixed("/opt/app/bin".into());
    let c = closure(&argv, &with_env).unwrap();
    assert!(c
        .objects
        .contains_key(Path::new("/opt/app/bin/../lib/libgreet.so")));
    assert!(c
        .objects
        .contains_key(Path::new("/opt/app/bin/../lib/libinner.so")));
    let mut packed = tree;
    c.add_to_dir(&mut packed, 0).unwrap();
    if let Some(out) = run(packed, &argv, &[("LD_ORIGIN_PATH", "/opt/app/bin")]) {
        assert!(
            out.status.success(),
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_package_directory_where_the_root_has_a_symlink_gets_the_roots_files() {
    // The package has a directory /bin (its own script is there) while the build machine may
    // have /bin → usr/bin. The grain sees the package's /bin, so /bin/sh must be put into it.
    let mut tree = Dir::default();
    place_bytes(
        &mut tree,
        "/bin/hello",
        b"#!/bin/sh\necho hello from the package\n",
        true,
    );
    place_bytes(
        &mut tree,
        "/bin/notes.txt",
        b"#!/bin/sh but not executable\n",
        false,
    );
    let programs = programs_in(&tree, |_| false).unwrap();
    assert_eq!(programs, [Path::new("/bin/hello")]);
    assert!(programs_in(&tree, |p| p.starts_with("/bin")).unwrap().is_empty());

    let c = closure(&programs, &options(Path::new("/"), &tree)).unwrap();
    assert!(c.entries[Path::new("/bin/hello")].in_package);
    let sh = &c.entries[Path::new("/bin/sh")];
    assert!(!sh.in_package);
    assert!(
        !c.entries.contains_key(Path::new("/bin")),
        "the root's /bin symlink cannot replace the package's directory"
    );
    let mut packed = tree.clone();
    c.add_to_dir(&mut packed, 0).unwrap();
    assert!(matches!(packed.get("bin").unwrap().node, Node::Dir(_)));

    let argv = ["/bin/hello"];
    if let Some(out) = run(packed, &argv, &[]) {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "hello from the package"
        );
    }
}

#[test]
fn a_library_the_package_lacks_names_the_program_and_the_library() {
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let built = build(work.path(), 41, "/opt/app/lib");
    let mut tree = Dir::default();
    place(&mut tree, "/opt/app/bin/prog", &built.prog);
    let err = closure(&["/opt/app/bin/prog"], &options(Path::new("/"), &tree)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("/opt/app/bin/prog") && text.contains("libgreet.so"),
        "{text}"
    );

    let mut optional = options(Path::new("/"), &tree);
    optional.optional.insert("libgreet.so".into());
    let c = closure(&["/opt/app/bin/prog"], &optional).unwrap();
    assert_eq!(c.missing.len(), 1);
    assert_eq!(c.missing[0].needed_by, Path::new("/opt/app/bin/prog"));
}
