//! Archives that try to write outside their directory, and archives that are simply broken: each
//! is a clear error naming the archive (and member), and nothing is left anywhere.

mod common;

use std::io::Write;
use std::path::Path;

use common::{listing, tar_bytes, write, Member};
use soiree_source::{extract, ArchiveFormat, Error, Fetcher, Source};

/// Unpacks `bytes` (a tar) into `<tmp>/box/dest`; returns the error and checks that neither the
/// destination nor anything else appeared in `<tmp>` or `<tmp>/box`.
fn unpack_fails(members: &[Member<'_>]) -> Error {
    let dir = tempfile::tempdir().unwrap();
    let archive = write(&dir.path().join("evil.tar"), &tar_bytes(members));
    std::fs::create_dir(dir.path().join("box")).unwrap();
    let dest = dir.path().join("box/dest");
    let err = extract("evil", &archive, ArchiveFormat::Tar, 0, &dest).unwrap_err();
    assert_eq!(listing(&dir.path().join("box")), Vec::<String>::new(), "{err}");
    assert_eq!(listing(dir.path()), vec!["box", "evil.tar"], "{err}");
    let text = err.to_string();
    assert!(text.contains("\"evil\""), "names the source: {text}");
    assert!(text.contains("evil.tar"), "names the archive: {text}");
    err
}

fn assert_unsafe(err: &Error, member: &str, why: &str) {
    match err {
        Error::UnsafeMember {
            member: m, reason, ..
        } => {
            assert_eq!(m, member, "{err}");
            assert!(reason.contains(why), "{err}");
        }
        other => panic!("expected an unsafe member, got {other}"),
    }
}

#[test]
fn dot_dot_member_is_refused() {
    let err = unpack_fails(&[
        Member::File("ok", b"fine", 0o644),
        Member::File("../evil", b"pwned", 0o644),
    ]);
    assert_unsafe(&err, "../evil", "`..`");
    let err = unpack_fails(&[Member::File("a/../../evil", b"pwned", 0o644)]);
    assert_unsafe(&err, "a/../../evil", "`..`");
}

#[test]
fn absolute_member_is_refused() {
    let err = unpack_fails(&[Member::File("/abs", b"pwned", 0o644)]);
    assert_unsafe(&err, "/abs", "absolute");
}

#[test]
fn symlink_escape_then_write_through_it_is_refused() {
    let err = unpack_fails(&[
        Member::Symlink("link", "../../outside"),
        Member::File("link/file", b"pwned", 0o644),
    ]);
    assert_unsafe(&err, "link", "outside");
}

#[test]
fn absolute_symlink_then_write_through_it_is_refused() {
    let err = unpack_fails(&[
        Member::Symlink("a", "/etc"),
        Member::File("a/passwd", b"root::0:0::/:/bin/sh", 0o644),
    ]);
    assert_unsafe(&err, "a", "absolute");
}

#[test]
fn writing_through_an_inside_symlink_is_refused_too() {
    // Even a symlink that stays inside is never followed while writing.
    let err = unpack_fails(&[
        Member::Dir("real/"),
        Member::Symlink("alias", "real"),
        Member::File("alias/file", b"x", 0o644),
    ]);
    assert_unsafe(&err, "alias/file", "symlink");
}

#[test]
fn symlink_chains_that_escape_are_refused() {
    // `up` alone stays inside (`sub/..` is the root), but `esc` climbs one more level through it.
    let err = unpack_fails(&[
        Member::Dir("sub/"),
        Member::Symlink("sub/up", ".."),
        Member::Symlink("esc", "sub/up/.."),
    ]);
    assert_unsafe(&err, "esc", "outside");
    // Safe when written, made unsafe by a later member: caught by the check of the whole tree.
    let err = unpack_fails(&[Member::Symlink("esc", "d/../file"), Member::Symlink("d", ".")]);
    assert_unsafe(&err, "esc", "outside");
}

#[test]
fn hardlink_escapes_are_refused() {
    let err = unpack_fails(&[Member::Hardlink("h", "../outside/secret")]);
    assert_unsafe(&err, "h", "outside the archive");
    let err = unpack_fails(&[Member::Hardlink("h", "/etc/passwd")]);
    assert_unsafe(&err, "h", "absolute");
    // Through a symlink, link(2) would follow it: refused.
    let err = unpack_fails(&[
        Member::Dir("real/"),
        Member::File("real/f", b"x", 0o644),
        Member::Symlink("alias", "real"),
        Member::Hardlink("h", "alias/f"),
    ]);
    assert_unsafe(&err, "h", "not a file unpacked before it");
}

#[test]
fn refused_members_leave_nothing_in_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = tar_bytes(&[Member::File("../evil", b"pwned", 0o644)]);
    let archive = write(&dir.path().join("in/evil.tar.gz"), &common::gzip(&bytes));
    let cache = dir.path().join("cache");
    let source = Source::path("evil", &archive);
    let err = Fetcher::new(soiree_source::Cache::new(&cache))
        .resolve(&source)
        .unwrap_err();
    assert!(matches!(err, Error::UnsafeMember { .. }), "{err}");
    assert_eq!(listing(&cache.join("extracted/v1")), Vec::<String>::new());
    assert_eq!(listing(dir.path()), vec!["cache", "in"]);
    assert_eq!(listing(&dir.path().join("in")), vec!["evil.tar.gz"]);
}

fn corrupt_error(name: &str, bytes: &[u8], format: ArchiveFormat) -> Error {
    let dir = tempfile::tempdir().unwrap();
    let archive = write(&dir.path().join(name), bytes);
    let dest = dir.path().join("out/dest");
    let err = extract("broken", &archive, format, 0, &dest).unwrap_err();
    assert!(!dest.exists());
    assert_eq!(listing(&dir.path().join("out")), Vec::<String>::new());
    match &err {
        Error::CorruptArchive {
            name: n, archive: a, ..
        } => {
            assert_eq!(n, "broken");
            assert_eq!(a, &archive);
        }
        other => panic!("expected a corrupt archive, got {other}"),
    }
    assert!(err.to_string().contains(name), "{err}");
    err
}

#[test]
fn truncated_tar_xz_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    // Data that does not compress away, so half the file is half the members.
    let mut noise = Vec::new();
    let mut x: u32 = 1;
    for _ in 0..200_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        noise.push((x >> 16) as u8);
    }
    common::write(&dir.path().join("t/data.bin"), &noise);
    common::run_tar(dir.path(), &["-cJf", "t.tar.xz", "t"]);
    let full = std::fs::read(dir.path().join("t.tar.xz")).unwrap();
    corrupt_error("t.tar.xz", &full[..full.len() / 2], ArchiveFormat::TarXz);
    // Cut just before the end: every member is whole, but the stream's trailer is missing.
    corrupt_error("t2.tar.xz", &full[..full.len() - 8], ArchiveFormat::TarXz);
}

#[test]
fn truncated_plain_tar_is_a_clear_error() {
    let bytes = tar_bytes(&[Member::File("big", &[7u8; 5000], 0o644)]);
    corrupt_error("cut.tar", &bytes[..2048], ArchiveFormat::Tar);
}

#[test]
fn garbage_zip_and_gzip_are_clear_errors() {
    let err = corrupt_error(
        "junk.zip",
        b"PK\x03\x04 this is not a zip at all",
        ArchiveFormat::Zip,
    );
    assert!(err.to_string().contains("corrupt"), "{err}");
    corrupt_error(
        "junk.tar.gz",
        b"\x1f\x8b\x08\x00garbage garbage",
        ArchiveFormat::TarGz,
    );
}

#[test]
fn zip_with_a_damaged_member_is_a_clear_error() {
    use zip::write::SimpleFileOptions;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("f", stored).unwrap();
    zip.write_all(&[b'a'; 1000]).unwrap();
    zip.finish().unwrap();
    let mut bytes = buf.into_inner();
    // Flip a byte of the stored data: the CRC no longer matches.
    let at = bytes.windows(4).position(|w| w == b"aaaa").unwrap() + 10;
    bytes[at] = b'b';
    corrupt_error("damaged.zip", &bytes, ArchiveFormat::Zip);
}

#[test]
fn zip_members_are_checked_like_tar_members() {
    use zip::write::SimpleFileOptions;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    zip.add_symlink("link", "../../outside", SimpleFileOptions::default())
        .unwrap();
    zip.finish().unwrap();
    std::fs::create_dir(dir.path().join("box")).unwrap();
    let err = extract("evil", &path, ArchiveFormat::Zip, 0, &dir.path().join("box/d")).unwrap_err();
    assert_unsafe(&err, "link", "outside");
    assert_eq!(listing(&dir.path().join("box")), Vec::<String>::new());
    assert!(!Path::new(&dir.path().join("outside")).exists());
}
