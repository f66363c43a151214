//! A layout written twice from one tree has the same bytes; GNU tar reads its layer with the
//! owners, modes, time and raw (non-UTF-8) names the tree asked for.

use std::collections::BTreeMap;
use std::process::Command;

use soiree_oci::{write_layout, ImageSpec, Layer};
use soiree_types::{Dir, Entry, Node};

fn tree() -> Dir {
    let mut root = Dir::default();
    root.entries
        .insert(b"hello".to_vec(), Entry::bytes(b"hi\n".to_vec(), true, 5));
    root.entries.insert(b"var".to_vec(), Entry::dir(7));
    root.entries.insert(
        b"caf\xe9".to_vec(),
        Entry::bytes(b"latin-1 name\n".to_vec(), false, 9),
    );
    root.entries.insert(
        b"link".to_vec(),
        Entry {
            node: Node::Symlink {
                target: b"hello".to_vec(),
            },
            mtime_ns: 3,
        },
    );
    root
}

fn spec() -> ImageSpec {
    ImageSpec {
        reference: "localhost/soiree/test-app:1".into(),
        entrypoint: vec!["/hello".into()],
        user: "1000:1000".into(),
        exposed_ports: vec!["8000/tcp".into()],
        volumes: vec!["/var".into()],
        epoch: 1_700_000_000,
        owners: BTreeMap::from([(
            "/var".to_string(),
            soiree_oci::Owner {
                uid: 1000,
                gid: 1000,
                mode: 0o755,
            },
        )]),
        labels: BTreeMap::from([("b".into(), "2".into()), ("a".into(), "1".into())]),
        ..Default::default()
    }
}

#[test]
fn same_tree_same_bytes_and_tar_reads_what_was_asked() {
    let dir = tempfile::tempdir().unwrap();
    let layers = [Layer {
        name: "only".into(),
        tree: tree(),
    }];
    let one = write_layout(&layers, &spec(), &dir.path().join("one")).unwrap();
    let two = write_layout(&layers, &spec(), &dir.path().join("two")).unwrap();
    assert_eq!(one.manifest_digest, two.manifest_digest);
    assert_eq!(
        std::fs::read(dir.path().join("one/index.json")).unwrap(),
        std::fs::read(dir.path().join("two/index.json")).unwrap()
    );
    // Written again over itself: replaced, since soiree-pack made it.
    let again = write_layout(&layers, &spec(), &dir.path().join("one")).unwrap();
    assert_eq!(again.manifest_digest, one.manifest_digest);

    let blob = soiree_oci::blobs::blob_path(&dir.path().join("one"), &one.layers[0].digest);
    let out = Command::new("tar")
        .args(["--numeric-owner", "--full-time", "-tvzf"])
        .arg(&blob)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    // GNU tar shows the byte 0xE9 in octal: the name's bytes are kept, not made UTF-8.
    assert!(text.contains("caf\\351"), "{text}");
    assert!(text.contains("-rwxr-xr-x 0/0"), "{text}");
    assert!(text.contains("drwxr-xr-x 1000/1000"), "{text}");
    assert!(text.contains("2023-11-14 22:13:20 hello"), "{text}");
    assert!(text.contains("link -> hello"), "{text}");
}

#[test]
fn a_folder_soiree_pack_did_not_write_is_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = dir.path().join("image");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("notes.txt"), "mine").unwrap();
    let layers = [Layer {
        name: "only".into(),
        tree: tree(),
    }];
    let err = write_layout(&layers, &spec(), &theirs).unwrap_err();
    assert!(matches!(err, soiree_oci::OciError::NotOurs(_)), "{err}");
    assert_eq!(std::fs::read_to_string(theirs.join("notes.txt")).unwrap(), "mine");
}
