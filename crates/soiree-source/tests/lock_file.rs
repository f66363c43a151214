//! `party.lock`: created, updated in place (comments kept byte for byte), and checked.

mod common;

use common::sha256_hex;
use soiree_source::{Error, Lock, LockEntry, Sha256, Source};

fn entry(name: &str, url: &str, content: &[u8], size: Option<u64>) -> LockEntry {
    LockEntry {
        name: name.into(),
        url: url.into(),
        sha256: Sha256::parse_hex(&sha256_hex(content)).unwrap(),
        size,
    }
}

#[test]
fn a_new_lock_is_created_with_sorted_entries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("party.lock");
    let mut lock = Lock::load(&path).unwrap();
    assert_eq!(lock.entries().count(), 0);
    lock.record(entry("redis", "https://example.org/redis.tar.gz", b"r", Some(10)));
    lock.record(entry("cockroachdb", "https://example.org/c.tgz", b"c", None));
    lock.save().unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let c = text.find("[source.cockroachdb]").unwrap();
    let r = text.find("[source.redis]").unwrap();
    assert!(c < r, "{text}");
    assert!(text.starts_with("# "), "{text}");
    assert!(text.contains("version = 1"), "{text}");
    assert!(!text.contains("[source]\n"), "{text}");
    // Nothing but the lock itself in the directory: the temporary file was renamed.
    assert_eq!(common::listing(dir.path()), vec!["party.lock"]);

    let again = Lock::load(&path).unwrap();
    let names: Vec<&str> = again.entries().map(|e| e.name.as_str()).collect();
    assert_eq!(names, vec!["cockroachdb", "redis"]);
    assert_eq!(again.get("redis"), lock.get("redis"));
    assert_eq!(again.get("redis").unwrap().size, Some(10));
}

#[test]
fn updating_keeps_comments_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("party.lock");
    let a = sha256_hex(b"a");
    let c_old = sha256_hex(b"c-old");
    let original = format!(
        "# Pinned by hand; ask before changing.\n\
         version = 1\n\
         \n\
         # The web front end.\n\
         [source.alpha]\n\
         url = \"https://example.org/alpha.zip\"   # the mirror is slower\n\
         sha256 = \"{a}\"\n\
         \n\
         [source.charlie]\n\
         url = \"https://example.org/charlie.tgz\"\n\
         sha256 = \"{c_old}\" # bumped for 24.1\n\
         size = 5\n"
    );
    std::fs::write(&path, &original).unwrap();
    let mut lock = Lock::load(&path).unwrap();
    lock.record(entry("bravo", "https://example.org/bravo.tar.xz", b"b", Some(1)));
    lock.record(entry(
        "charlie",
        "https://example.org/charlie.tgz",
        b"c-new",
        Some(6),
    ));
    // Recording what is there already changes nothing.
    lock.record(entry("alpha", "https://example.org/alpha.zip", b"a", None));
    lock.save().unwrap();

    let b = sha256_hex(b"b");
    let c_new = sha256_hex(b"c-new");
    let expected = format!(
        "# Pinned by hand; ask before changing.\n\
         version = 1\n\
         \n\
         # The web front end.\n\
         [source.alpha]\n\
         url = \"https://example.org/alpha.zip\"   # the mirror is slower\n\
         sha256 = \"{a}\"\n\
         \n\
         [source.bravo]\n\
         url = \"https://example.org/bravo.tar.xz\"\n\
         sha256 = \"{b}\"\n\
         size = 1\n\
         \n\
         [source.charlie]\n\
         url = \"https://example.org/charlie.tgz\"\n\
         sha256 = \"{c_new}\" # bumped for 24.1\n\
         size = 6\n"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);

    // Removing a source drops its table and nothing else.
    let mut lock = Lock::load(&path).unwrap();
    lock.retain(|name| name != "bravo");
    lock.save().unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        original.replace(&c_old, &c_new).replace("size = 5", "size = 6")
    );
}

#[test]
fn a_source_pinned_differently_from_the_lock_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut lock = Lock::load(dir.path().join("party.lock")).unwrap();
    lock.record(entry("godot", "https://example.org/godot.zip", b"v1", None));
    let same = Source::url("godot", "https://example.org/godot.zip", &sha256_hex(b"v1"), None).unwrap();
    lock.check(&same).unwrap();
    let changed = Source::url("godot", "https://example.org/godot.zip", &sha256_hex(b"v2"), None).unwrap();
    let err = lock.check(&changed).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::LockMismatch { .. }), "{text}");
    assert!(text.contains("\"godot\""), "{text}");
    assert!(text.contains(&sha256_hex(b"v1")), "{text}");
    assert!(text.contains(&sha256_hex(b"v2")), "{text}");
    // Sources the lock does not know, and local ones, are not its business.
    lock.check(&Source::url("other", "https://x.org/o", &sha256_hex(b"o"), None).unwrap())
        .unwrap();
    lock.check(&Source::path("godot", "godot.zip")).unwrap();
}

#[test]
fn malformed_locks_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (text, needle) in [
        ("version = 2\n", "version 2"),
        ("[source.x]\nurl = \"u\"\n", "needs `sha256`"),
        ("[source.x]\nurl = \"u\"\nsha256 = \"abc\"\n", "not a SHA-256"),
        ("[source.x\n", "not valid TOML"),
    ] {
        let path = dir.path().join("party.lock");
        std::fs::write(&path, text).unwrap();
        let err = Lock::load(&path).unwrap_err();
        assert!(err.to_string().contains(needle), "{text:?}: {err}");
        assert!(err.to_string().contains("party.lock"), "{err}");
    }
    let bad_pin = Source::url("x", "https://x.org/x", "not hex", None).unwrap_err();
    assert!(matches!(bad_pin, Error::BadSha256 { .. }), "{bad_pin}");
}
