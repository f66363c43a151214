//! A closure becomes entries of the tree a package is packed from.

use std::path::Path;

use soiree_deps::{closure, Error, Options};
use soiree_spk::{Dir, Entry, Node, Source};

#[test]
fn symlinks_stay_symlinks_and_executables_stay_executable() {
    let c = closure(&["/bin/sh"], &Options::default()).unwrap();
    let dir = c.to_dir(7).unwrap();
    let node = |p: &str| &dir.get(p).unwrap_or_else(|| panic!("{p} is missing")).node;
    assert_eq!(
        node("bin"),
        &Node::Symlink {
            target: b"usr/bin".to_vec()
        }
    );
    assert_eq!(
        node("usr/bin/sh"),
        &Node::Symlink {
            target: b"dash".to_vec()
        }
    );
    match node("usr/bin/dash") {
        Node::File {
            source,
            executable,
            size,
        } => {
            assert!(executable);
            assert_eq!(source, &Source::Path("/usr/bin/dash".into()));
            assert_eq!(*size, std::fs::metadata("/usr/bin/dash").unwrap().len());
        }
        other => panic!("dash is {other:?}"),
    }
    assert!(matches!(node("usr/lib/x86_64-linux-gnu"), Node::Dir(_)));
    assert_eq!(dir.get("usr").unwrap().mtime_ns, 7);
    // Nothing but the closure: the tree's files are exactly its entries.
    let files = dir.count()
        - [
            "usr",
            "usr/bin",
            "usr/lib",
            "usr/lib/x86_64-linux-gnu",
            "usr/lib64",
        ]
        .len();
    assert_eq!(files, c.entries.len());
}

#[test]
fn a_different_entry_already_in_the_tree_is_a_conflict() {
    let c = closure(&["/bin/sh"], &Options::default()).unwrap();
    let mut dir = Dir::default();
    dir.entries.insert(b"bin".to_vec(), Entry::dir(0));
    let err = c.add_to_dir(&mut dir, 0).unwrap_err();
    assert!(
        matches!(&err, Error::TreeConflict { path, .. } if path == Path::new("/bin")),
        "{err:?}"
    );

    // The same entries twice are fine.
    let mut dir = c.to_dir(0).unwrap();
    c.add_to_dir(&mut dir, 0).unwrap();
}

#[test]
fn a_symlink_loop_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("b", root.path().join("a")).unwrap();
    std::os::unix::fs::symlink("a", root.path().join("b")).unwrap();
    let options = Options {
        root: root.path().to_path_buf(),
        ..Options::default()
    };
    let err = closure(&["/a"], &options).unwrap_err();
    assert!(matches!(err, Error::SymlinkLoop { .. }), "{err:?}");
}

#[test]
fn the_closure_is_deterministic() {
    let programs = ["/usr/bin/env", "/bin/sh"];
    let a = closure(&programs, &Options::default()).unwrap();
    let b = closure(&["/bin/sh", "/usr/bin/env", "/bin/sh"], &Options::default()).unwrap();
    assert_eq!(a.objects, b.objects);
    assert_eq!(a.entries, b.entries);
}
