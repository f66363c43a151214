//! Selecting and placing files: globs, renames, symlinks, conflicts, and the step into a
//! `soiree_types::Dir`.

mod common;

use std::path::Path;

use common::{set_mode, write};
use soiree_source::{insert_entries, map_files, EntryKind, Error, FileSet, MappedEntry, Mapping, Resolved};
use soiree_types::{Dir, Entry, Node};

/// bin/app (executable), lib/libfoo.so + lib/libfoo.so.1 -> libfoo.so, lib/sub/libbar.so,
/// lib/sub/readme.txt, share/doc/a.md, node_modules/x/index.js
fn tree(dir: &Path) -> Resolved {
    let root = dir.join("src");
    write(&root.join("bin/app"), b"app");
    set_mode(&root.join("bin/app"), 0o755);
    write(&root.join("lib/libfoo.so"), b"foo");
    std::os::unix::fs::symlink("libfoo.so", root.join("lib/libfoo.so.1")).unwrap();
    write(&root.join("lib/sub/libbar.so"), b"bar");
    write(&root.join("lib/sub/readme.txt"), b"readme");
    write(&root.join("share/doc/a.md"), b"# a");
    write(&root.join("node_modules/x/index.js"), b"js");
    Resolved::local("tree", root).unwrap()
}

fn paths(entries: &[MappedEntry]) -> Vec<String> {
    entries.iter().map(|e| e.path.display().to_string()).collect()
}

fn mapping(from: &str, to: &str) -> Mapping {
    Mapping {
        from: from.into(),
        to: to.into(),
        ..Mapping::default()
    }
}

#[test]
fn whole_directory_under_a_prefix_keeps_symlinks_and_modes() {
    let dir = tempfile::tempdir().unwrap();
    let source = tree(dir.path());
    let entries = map_files(&source, &mapping("", "/opt/app")).unwrap();
    assert_eq!(entries.len(), 15);
    assert_eq!(entries[0].path, Path::new("/opt/app"));
    assert_eq!(entries[0].kind, EntryKind::Dir);
    let by_path = |p: &str| entries.iter().find(|e| e.path == Path::new(p)).unwrap();
    let app = by_path("/opt/app/bin/app");
    assert_eq!(app.kind, EntryKind::File);
    assert!(app.executable);
    assert_eq!(app.size, 3);
    assert_eq!(app.host, dir.path().join("src/bin/app"));
    assert_eq!(app.origin.source, "tree");
    assert_eq!(app.origin.path, Path::new("bin/app"));
    assert!(!by_path("/opt/app/lib/libfoo.so").executable);
    let link = by_path("/opt/app/lib/libfoo.so.1");
    assert_eq!(link.kind, EntryKind::Symlink);
    assert_eq!(link.symlink_target.as_deref(), Some(Path::new("libfoo.so")));
    // Sorted by path, so the same tree always gives the same list.
    let mut sorted = entries.clone();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(sorted, entries);
}

#[test]
fn include_and_exclude_globs() {
    let dir = tempfile::tempdir().unwrap();
    let source = tree(dir.path());
    let m = Mapping {
        include: vec!["bin".into(), "lib/**/*.so".into(), "**/*.md".into()],
        exclude: vec!["lib/sub/**".into()],
        ..mapping("", "/opt/app")
    };
    assert_eq!(
        paths(&map_files(&source, &m).unwrap()),
        vec![
            "/opt/app/bin",
            "/opt/app/bin/app",
            "/opt/app/lib/libfoo.so",
            "/opt/app/share/doc/a.md"
        ]
    );
    // `*` does not cross directories; an excluded directory is skipped whole.
    let m = Mapping {
        include: vec!["lib/*.so*".into()],
        ..mapping("", "/")
    };
    assert_eq!(
        paths(&map_files(&source, &m).unwrap()),
        vec!["/lib/libfoo.so", "/lib/libfoo.so.1"]
    );
    let m = Mapping {
        exclude: vec!["node_modules".into(), "share".into(), "**/*.txt".into()],
        ..mapping("lib", "/usr/lib/app")
    };
    assert_eq!(
        paths(&map_files(&source, &m).unwrap()),
        vec![
            "/usr/lib/app",
            "/usr/lib/app/libfoo.so",
            "/usr/lib/app/libfoo.so.1",
            "/usr/lib/app/sub",
            "/usr/lib/app/sub/libbar.so",
        ]
    );
    let bad = Mapping {
        include: vec!["lib/[".into()],
        ..mapping("", "/")
    };
    let err = map_files(&source, &bad).unwrap_err();
    assert!(matches!(err, Error::BadGlob { .. }), "{err}");
    assert!(err.to_string().contains("lib/["), "{err}");
}

#[test]
fn single_files_are_renamed_or_placed_into_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let source = tree(dir.path());
    let renamed = map_files(&source, &mapping("bin/app", "/usr/bin/party")).unwrap();
    assert_eq!(paths(&renamed), vec!["/usr/bin/party"]);
    assert!(renamed[0].executable);
    assert_eq!(renamed[0].origin.path, Path::new("bin/app"));

    let into = Mapping {
        executable: Some(false),
        ..mapping("bin/app", "/usr/bin/")
    };
    let placed = map_files(&source, &into).unwrap();
    assert_eq!(paths(&placed), vec!["/usr/bin/app"]);
    assert!(!placed[0].executable);

    // A symlink named as `from` is followed, as `cp` follows its operands: the package gets the
    // target's bytes under the link's name.
    let link = map_files(&source, &mapping("lib/libfoo.so.1", "/lib/")).unwrap();
    assert_eq!(paths(&link), vec!["/lib/libfoo.so.1"]);
    assert_eq!(link[0].kind, EntryKind::File);
    assert_eq!(std::fs::read(&link[0].host).unwrap(), b"foo");
    // Inside a mapped directory it stays a symlink.
    let whole = map_files(&source, &mapping("lib", "/lib")).unwrap();
    let inner = whole
        .iter()
        .find(|e| e.path == Path::new("/lib/libfoo.so.1"))
        .unwrap();
    assert_eq!(inner.kind, EntryKind::Symlink);
    // A broken one is an error that says so.
    std::os::unix::fs::symlink("gone", dir.path().join("src/lib/dangling")).unwrap();
    let err = map_files(&source, &mapping("lib/dangling", "/lib/dangling")).unwrap_err();
    assert!(err.to_string().contains("broken symlink"), "{err}");

    // A source that is one file (a download) takes its name from the URL, given by the resolver.
    let one = Resolved {
        file_name: Some("cockroach".into()),
        ..Resolved::local("cockroachdb", dir.path().join("src/bin/app")).unwrap()
    };
    let m = Mapping {
        executable: Some(true),
        ..mapping("", "/opt/cockroach/")
    };
    assert_eq!(
        paths(&map_files(&one, &m).unwrap()),
        vec!["/opt/cockroach/cockroach"]
    );
}

#[test]
fn from_and_to_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let source = tree(dir.path());
    for (from, to, needle) in [
        ("../etc", "/x", "without `..`"),
        ("missing", "/x", "does not exist"),
        ("bin", "relative", "absolute"),
        ("bin", "/a/../b", "`..`"),
    ] {
        let err = map_files(&source, &mapping(from, to)).unwrap_err();
        assert!(err.to_string().contains(needle), "{from} -> {to}: {err}");
    }
    // A symlink inside the source that points out of it cannot be used to reach outside.
    std::os::unix::fs::symlink("../..", dir.path().join("src/up")).unwrap();
    let err = map_files(&source, &mapping("up/etc", "/x")).unwrap_err();
    assert!(err.to_string().contains("leaves the source"), "{err}");
}

fn other_source(dir: &Path, content: &[u8]) -> Resolved {
    let root = dir.join("other");
    write(&root.join("bin/app"), content);
    set_mode(&root.join("bin/app"), 0o755);
    Resolved::local("other", root).unwrap()
}

#[test]
fn conflicting_mappings_name_both_origins() {
    let dir = tempfile::tempdir().unwrap();
    let first = map_files(&tree(dir.path()), &mapping("", "/opt/app")).unwrap();
    let second = map_files(
        &other_source(dir.path(), b"different"),
        &Mapping {
            via: Some("recipe overlay".into()),
            ..mapping("bin/app", "/opt/app/bin/app")
        },
    )
    .unwrap();
    let mut set = FileSet::new();
    set.extend(first.clone()).unwrap();
    let err = set.extend(second).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Conflict { .. }), "{text}");
    assert!(text.contains("/opt/app/bin/app"), "{text}");
    assert!(text.contains("source \"tree\" bin/app"), "{text}");
    assert!(
        text.contains("source \"other\" bin/app (mapped by recipe overlay)"),
        "{text}"
    );

    // The same bytes from elsewhere are not a conflict.
    let same = map_files(
        &other_source(&dir.path().join("again"), b"app"),
        &mapping("bin/app", "/opt/app/bin/app"),
    )
    .unwrap();
    set.extend(same).unwrap();
    assert_eq!(set.origin(Path::new("/opt/app/bin/app")).unwrap().source, "tree");

    // A file where a mapping placed a directory, and a file inside another mapping's file.
    let blocker = map_files(&tree(&dir.path().join("b")), &mapping("bin/app", "/opt/app/lib")).unwrap();
    let err = set.extend(blocker).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("source \"tree\" lib and"), "{err}");
    let inside = map_files(
        &tree(&dir.path().join("c")),
        &mapping("bin/app", "/opt/app/bin/app/inner"),
    )
    .unwrap();
    let err = set.extend(inside).unwrap_err();
    assert!(matches!(err, Error::NotADirectory { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("/opt/app/bin/app/inner"), "{text}");
    assert!(
        text.contains("needs /opt/app/bin/app to be a directory"),
        "{text}"
    );
    assert!(text.contains("puts a file there"), "{text}");
}

#[test]
fn entries_go_into_a_spk_dir() {
    let dir = tempfile::tempdir().unwrap();
    let entries = map_files(&tree(dir.path()), &mapping("", "/opt/app")).unwrap();
    let mut pkg = Dir::default();
    pkg.entries.insert(
        b"sandstorm-manifest".to_vec(),
        Entry::bytes(b"m".to_vec(), false, 0),
    );
    insert_entries(&mut pkg, &entries, 42).unwrap();
    match &pkg.get("opt/app/bin/app").unwrap().node {
        Node::File {
            source,
            size,
            executable,
        } => {
            assert_eq!(
                *source,
                soiree_types::Source::Path(dir.path().join("src/bin/app"))
            );
            assert_eq!(*size, 3);
            assert!(*executable);
        }
        other => panic!("expected a file, got {other:?}"),
    }
    match &pkg.get("opt/app/lib/libfoo.so.1").unwrap().node {
        Node::Symlink { target } => assert_eq!(target, b"libfoo.so"),
        other => panic!("expected a symlink, got {other:?}"),
    }
    // `/opt` was made on the way, with the given time.
    assert_eq!(pkg.get("opt").unwrap().mtime_ns, 42);
    assert!(pkg.get("sandstorm-manifest").is_some());

    // The same again is fine; something different where the tree already has a file is not.
    insert_entries(&mut pkg, &entries, 42).unwrap();
    let clash = map_files(
        &other_source(dir.path(), b"manifest?"),
        &mapping("bin/app", "/sandstorm-manifest"),
    )
    .unwrap();
    let err = insert_entries(&mut pkg, &clash, 0).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("/sandstorm-manifest"), "{text}");
    assert!(text.contains("already in the package tree"), "{text}");
    assert!(text.contains("source \"other\" bin/app"), "{text}");
}
