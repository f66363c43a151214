//! Unpacking honest archives of every format: stripping, sub-paths, symlinks and executable bits
//! kept, and the extraction cache reused.

mod common;

use std::io::Write;
use std::path::Path;

use common::{make_release_tree, mode, run_tar, tar_bytes, write, Member};
use soiree_source::{extract, ArchiveFormat, Cache, Fetcher, Source};

fn fetcher(dir: &Path) -> Fetcher {
    Fetcher::new(Cache::new(dir.join("cache"))).offline(true)
}

/// What every format below must produce from `make_release_tree` with one component stripped.
fn check_release(root: &Path) {
    assert_eq!(
        std::fs::read(root.join("bin/app")).unwrap(),
        b"#!/bin/sh\necho app\n"
    );
    assert_eq!(mode(&root.join("bin/app")), 0o755);
    assert_eq!(mode(&root.join("lib/libapp.so.1.0")), 0o644);
    let link = root.join("lib/libapp.so.1");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("libapp.so.1.0"));
    assert_eq!(
        std::fs::read(root.join("share/doc/README")).unwrap(),
        b"read me\n"
    );
}

#[test]
fn tar_gz_made_by_gnu_tar_keeps_symlinks_and_modes() {
    let dir = tempfile::tempdir().unwrap();
    make_release_tree(dir.path());
    run_tar(dir.path(), &["-czf", "app.tar.gz", "app-1.0"]);
    let source = Source::path("app", dir.path().join("app.tar.gz")).with_strip_components(1);
    assert_eq!(source.archive, Some(ArchiveFormat::TarGz));
    let resolved = fetcher(dir.path()).resolve(&source).unwrap();
    assert!(resolved.is_dir);
    assert!(resolved.root.starts_with(dir.path().join("cache/extracted")));
    check_release(&resolved.root);
}

#[test]
fn tar_xz_made_by_gnu_tar_and_xz_with_sub_path() {
    let dir = tempfile::tempdir().unwrap();
    make_release_tree(dir.path());
    run_tar(dir.path(), &["-cf", "app.tar", "app-1.0"]);
    let status = std::process::Command::new("xz")
        .args(["-k", "app.tar"])
        .current_dir(dir.path())
        .status()
        .expect("run xz");
    assert!(status.success());
    let source = Source::path("app", dir.path().join("app.tar.xz"))
        .with_strip_components(1)
        .with_sub_path("lib");
    let resolved = fetcher(dir.path()).resolve(&source).unwrap();
    assert_eq!(resolved.inner, Path::new("lib"));
    assert!(resolved.root.join("libapp.so.1.0").is_file());
    assert_eq!(
        std::fs::read_link(resolved.root.join("libapp.so.1")).unwrap(),
        Path::new("libapp.so.1.0")
    );
    assert!(!resolved.root.join("bin").exists());

    // The plain .tar of the same tree, unstripped.
    let plain = Source::path("plain", dir.path().join("app.tar"));
    let resolved = fetcher(dir.path()).resolve(&plain).unwrap();
    check_release(&resolved.root.join("app-1.0"));
}

#[test]
fn tar_built_in_process_with_hardlink_strip_and_sub_path() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = tar_bytes(&[
        Member::Dir("pkg/"),
        Member::Dir("pkg/bin/"),
        Member::File("pkg/bin/tool", b"tool", 0o750),
        Member::File("pkg/etc/conf", b"a=1\n", 0o600),
        Member::Hardlink("pkg/bin/tool-again", "pkg/bin/tool"),
        Member::Symlink("pkg/bin/t", "tool"),
        Member::Symlink("pkg/conf", "etc/conf"),
        // Stripping one component leaves nothing of this one, so it is skipped.
        Member::File("top-level-file", b"dropped", 0o644),
    ]);
    let archive = write(&dir.path().join("pkg.tar"), &bytes);
    let dest = dir.path().join("out/pkg");
    extract("pkg", &archive, ArchiveFormat::Tar, 1, &dest).unwrap();
    assert_eq!(std::fs::read(dest.join("bin/tool")).unwrap(), b"tool");
    assert_eq!(mode(&dest.join("bin/tool")), 0o755);
    assert_eq!(mode(&dest.join("etc/conf")), 0o644);
    assert_eq!(std::fs::read(dest.join("bin/tool-again")).unwrap(), b"tool");
    assert_eq!(std::fs::read_link(dest.join("bin/t")).unwrap(), Path::new("tool"));
    assert_eq!(
        std::fs::read_link(dest.join("conf")).unwrap(),
        Path::new("etc/conf")
    );
    assert!(!dest.join("top-level-file").exists());
    // Times come from the archive.
    let mtime = std::fs::metadata(dest.join("bin/tool")).unwrap();
    assert_eq!(
        filetime::FileTime::from_last_modification_time(&mtime).unix_seconds(),
        common::MTIME as i64
    );
    // Only the destination appeared: the temporary directory was renamed, not left behind.
    assert_eq!(common::listing(&dir.path().join("out")), vec!["pkg"]);

    // A destination that exists is never overwritten.
    let err = extract("pkg", &archive, ArchiveFormat::Tar, 1, &dest).unwrap_err();
    assert!(err.to_string().contains("must not exist"), "{err}");

    // A sub-path may be a single file.
    let source = Source::path("pkg", &archive)
        .with_strip_components(1)
        .with_sub_path("bin/tool");
    let resolved = fetcher(dir.path()).resolve(&source).unwrap();
    assert!(!resolved.is_dir);
    assert_eq!(resolved.file_name.as_deref(), Some("tool".as_ref()));
}

#[test]
fn zip_keeps_symlinks_executables_and_directories() {
    use zip::write::SimpleFileOptions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("godot-export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let deflated = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.add_directory("export/", deflated.unix_permissions(0o755))
        .unwrap();
    zip.start_file("export/server.x86_64", deflated.unix_permissions(0o755))
        .unwrap();
    zip.write_all(&vec![0x90; 10_000]).unwrap();
    zip.start_file("export/server.pck", deflated.unix_permissions(0o644))
        .unwrap();
    zip.write_all(b"GDPC pack").unwrap();
    zip.add_symlink("export/server", "server.x86_64", SimpleFileOptions::default())
        .unwrap();
    // A member from a zip made without unix modes: a plain file.
    zip.start_file("export/notes.txt", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"notes").unwrap();
    zip.finish().unwrap();

    let source = Source::path("godot", &path).with_strip_components(1);
    let resolved = fetcher(dir.path()).resolve(&source).unwrap();
    let root = &resolved.root;
    assert_eq!(std::fs::read(root.join("server.x86_64")).unwrap().len(), 10_000);
    assert_eq!(mode(&root.join("server.x86_64")), 0o755);
    assert_eq!(mode(&root.join("server.pck")), 0o644);
    assert_eq!(
        std::fs::read_link(root.join("server")).unwrap(),
        Path::new("server.x86_64")
    );
    assert_eq!(std::fs::read(root.join("notes.txt")).unwrap(), b"notes");
}

#[test]
fn second_resolve_reuses_the_extracted_tree() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = tar_bytes(&[Member::File("a/file", b"x", 0o644)]);
    let archive = write(&dir.path().join("a.tar.gz"), &common::gzip(&bytes));
    let source = Source::path("a", &archive);
    let first = fetcher(dir.path()).resolve(&source).unwrap();
    // A marker that a second extraction would not carry over.
    std::fs::write(first.root.join("marker"), b"still here").unwrap();
    let second = fetcher(dir.path()).resolve(&source).unwrap();
    assert_eq!(first.root, second.root);
    assert!(second.root.join("marker").exists());
    // Another strip count is another tree.
    let stripped = fetcher(dir.path())
        .resolve(&source.clone().with_strip_components(1))
        .unwrap();
    assert_ne!(stripped.root, first.root);
    assert!(stripped.root.join("file").is_file());
}

#[test]
fn local_directory_with_sub_path_and_option_errors() {
    let dir = tempfile::tempdir().unwrap();
    make_release_tree(dir.path());
    let source = Source::path("tree", "app-1.0").with_sub_path("share/doc");
    let resolved = fetcher(dir.path()).base_dir(dir.path()).resolve(&source).unwrap();
    assert_eq!(resolved.root, dir.path().join("app-1.0/share/doc"));

    let escaping = Source::path("tree", "app-1.0").with_sub_path("../..");
    let err = fetcher(dir.path())
        .base_dir(dir.path())
        .resolve(&escaping)
        .unwrap_err();
    assert!(err.to_string().contains("\"tree\""), "{err}");

    let strip_on_dir = Source::path("tree", "app-1.0").with_strip_components(1);
    let err = fetcher(dir.path())
        .base_dir(dir.path())
        .resolve(&strip_on_dir)
        .unwrap_err();
    assert!(err.to_string().contains("strip-components"), "{err}");

    let missing = Source::path("nope", "not-here");
    let err = fetcher(dir.path())
        .base_dir(dir.path())
        .resolve(&missing)
        .unwrap_err();
    assert!(err.to_string().contains("not-here"), "{err}");
}
