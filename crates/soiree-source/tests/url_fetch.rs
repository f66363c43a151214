//! Pinned URLs through a loopback HTTP server: verified downloads into the cache, mismatches that
//! leave nothing behind, cache hits without a request, and offline mode.

mod common;

use common::{listing, sha256_hex, tar_bytes, Member, Server};
use miette::Diagnostic;
use soiree_source::{Cache, Error, Fetcher, Lock, LockEntry, Sha256, Source};

const BODY: &[u8] = b"#!/bin/sh\necho cockroach\n";

#[test]
fn download_lands_in_the_cache_under_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BODY.to_vec(), 1);
    let url = format!("{}/releases/cockroach", server.url_base);
    let source = Source::url("cockroachdb", &url, &sha256_hex(BODY), Some(BODY.len() as u64)).unwrap();
    let cache = Cache::new(dir.path().join("cache"));
    let resolved = Fetcher::new(cache.clone()).resolve(&source).unwrap();
    let expected = dir.path().join("cache/sha256").join(sha256_hex(BODY));
    assert_eq!(resolved.root, expected);
    assert!(!resolved.is_dir);
    assert_eq!(std::fs::read(&expected).unwrap(), BODY);
    assert_eq!(resolved.file_name.as_deref(), Some("cockroach".as_ref()));
    let locked = resolved.locked.unwrap();
    assert_eq!(locked.url, url);
    assert_eq!(locked.size, Some(BODY.len() as u64));
    // Only the finished file: no temporary left beside it.
    assert_eq!(listing(&dir.path().join("cache/sha256")), vec![sha256_hex(BODY)]);
    assert_eq!(server.join(), 1);
}

#[test]
fn second_fetch_is_served_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    // Room for two requests, so a second download would be counted rather than refused.
    let server = Server::start_for(BODY.to_vec(), 2, std::time::Duration::from_secs(3));
    let source = Source::url("c", format!("{}/c", server.url_base), &sha256_hex(BODY), None).unwrap();
    let fetcher = Fetcher::new(Cache::new(dir.path().join("cache")));
    let first = fetcher.resolve(&source).unwrap();
    assert_eq!(server.count(), 1);
    let second = Fetcher::new(Cache::new(dir.path().join("cache")))
        .resolve(&source)
        .unwrap();
    assert_eq!(first.root, second.root);
    // Offline works too, now that it is cached.
    let offline = Fetcher::new(Cache::new(dir.path().join("cache")))
        .offline(true)
        .resolve(&source)
        .unwrap();
    assert_eq!(offline.root, first.root);
    assert_eq!(server.join(), 1);
}

#[test]
fn sha256_mismatch_is_an_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BODY.to_vec(), 1);
    let wrong = sha256_hex(b"something else");
    let url = format!("{}/c", server.url_base);
    let source = Source::url("cockroachdb", &url, &wrong, None).unwrap();
    let err = Fetcher::new(Cache::new(dir.path().join("cache")))
        .resolve(&source)
        .unwrap_err();
    match &err {
        Error::HashMismatch {
            name,
            url: u,
            expected,
            actual,
        } => {
            assert_eq!(name, "cockroachdb");
            assert_eq!(u, &url);
            assert_eq!(expected, &wrong);
            assert_eq!(actual, &sha256_hex(BODY));
        }
        other => panic!("expected a hash mismatch, got {other}"),
    }
    assert_eq!(listing(&dir.path().join("cache/sha256")), Vec::<String>::new());
    assert_eq!(server.join(), 1);
}

#[test]
fn size_mismatch_is_an_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(BODY.to_vec(), 1);
    let source = Source::url("c", format!("{}/c", server.url_base), &sha256_hex(BODY), Some(3)).unwrap();
    let err = Fetcher::new(Cache::new(dir.path().join("cache")))
        .resolve(&source)
        .unwrap_err();
    assert!(matches!(err, Error::SizeMismatch { expected: 3, .. }), "{err}");
    assert_eq!(listing(&dir.path().join("cache/sha256")), Vec::<String>::new());
    server.join();
}

#[test]
fn offline_with_an_empty_cache_names_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let url = "https://binaries.example.org/cockroach-v24.1.0.linux-amd64.tgz";
    let source = Source::url("cockroachdb", url, &sha256_hex(BODY), None).unwrap();
    let err = Fetcher::new(Cache::new(dir.path().join("cache")))
        .offline(true)
        .resolve(&source)
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("cockroachdb"), "{text}");
    assert!(text.contains(url), "{text}");
    assert!(text.contains("offline"), "{text}");
    let help = err.help().map(|h| h.to_string()).unwrap_or_default();
    assert!(help.contains("soiree-pack lock"), "{help}");
    assert!(help.contains("online"), "{help}");
}

#[test]
fn url_archive_is_downloaded_unpacked_and_then_needs_no_download() {
    let dir = tempfile::tempdir().unwrap();
    let tgz = common::gzip(&tar_bytes(&[
        Member::Dir("cockroach-v24/"),
        Member::File("cockroach-v24/cockroach", b"\x7fELF", 0o755),
    ]));
    let server = Server::start(tgz.clone(), 1);
    let url = format!("{}/cockroach-v24.linux-amd64.tgz?download=1", server.url_base);
    let source = Source::url("cockroachdb", &url, &sha256_hex(&tgz), Some(tgz.len() as u64))
        .unwrap()
        .with_strip_components(1);
    let cache = Cache::new(dir.path().join("cache"));
    let resolved = Fetcher::new(cache.clone()).resolve(&source).unwrap();
    assert!(resolved.is_dir);
    assert!(resolved.root.join("cockroach").is_file());
    assert_eq!(server.join(), 1);

    // With the download gone, the unpacked tree alone serves an offline build.
    let digest = Sha256::parse_hex(&sha256_hex(&tgz)).unwrap();
    std::fs::remove_file(cache.blob_path(&digest)).unwrap();
    let again = Fetcher::new(cache).offline(true).resolve(&source).unwrap();
    assert_eq!(again.root, resolved.root);
}

#[test]
fn lock_mismatch_stops_before_any_download() {
    let dir = tempfile::tempdir().unwrap();
    let mut lock = Lock::load(dir.path().join("party.lock")).unwrap();
    lock.record(LockEntry {
        name: "godot".into(),
        url: "http://127.0.0.1:9/godot.zip".into(),
        sha256: Sha256::parse_hex(&sha256_hex(b"old")).unwrap(),
        size: None,
    });
    let source = Source::url("godot", "http://127.0.0.1:9/godot.zip", &sha256_hex(b"new"), None).unwrap();
    let err = Fetcher::new(Cache::new(dir.path().join("cache")))
        .with_lock(&lock)
        .resolve(&source)
        .unwrap_err();
    assert!(matches!(err, Error::LockMismatch { .. }), "{err}");
    assert!(err.to_string().contains("godot"), "{err}");
    assert!(err.to_string().contains("party.lock"), "{err}");
}
