//! `--compression`/`--fast`, the block cache (`SOIREE_PACK_CACHE_DIR`, `--no-cache`,
//! `SOIREE_PACK_CACHE_SIZE`, `cache clean`), `cache info` and `cache clean` over the source cache
//! a build filled (locked while a build reads it, only its own entries, symlinks not followed),
//! and `sign` without and with `--verify`, through the command line.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use soiree_schema::manifest_capnp::manifest;

fn run(args: &[&str], cache: &Path, extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_soiree-pack"));
    cmd.args(args)
        .env("SOIREE_PACK_CACHE_DIR", cache)
        // `cache clean` covers the source cache too: the test's own, never the user's.
        .env("XDG_CACHE_HOME", cache.with_extension("xdg"))
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("SOIREE_PACK_CACHE_SIZE")
        .env_remove("SOIREE_SIGNING_KEY")
        .env_remove("SOIREE_KEYRING");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn app_tree(root: &Path) {
    std::fs::create_dir_all(root.join("data")).unwrap();
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_title().set_default_text("Cache App");
        m.reborrow().init_app_marketing_version().set_default_text("1.0");
        m.init_continue_command().init_argv(1).set(0, "/bin/run");
    }
    std::fs::write(
        root.join("sandstorm-manifest"),
        capnp::serialize::write_message_to_words(&b),
    )
    .unwrap();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let bytes: Vec<u8> = (0..1_300_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'a' + (x % 12) as u8
        })
        .collect();
    std::fs::write(root.join("data/big.bin"), &bytes).unwrap();
    for i in 0..20 {
        std::fs::write(
            root.join(format!("data/small{i}.txt")),
            format!("file {i}\n").repeat(50),
        )
        .unwrap();
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_cache_makes_a_repack_compress_nothing_and_clean_empties_it() {
    let t = tempfile::tempdir().unwrap();
    let (app, cache, ring) = (
        t.path().join("app"),
        t.path().join("cache"),
        t.path().join("ring"),
    );
    app_tree(&app);
    ok(&run(&["keygen", "--keyring", s(&ring)], &cache, &[]));
    let (a, b) = (t.path().join("a.spk"), t.path().join("b.spk"));
    let first = ok(&run(&["pack", s(&app), "-o", s(&a), "-k", s(&ring)], &cache, &[]));
    assert!(first.contains(", 0 from the cache"), "{first}");
    let second = ok(&run(&["pack", s(&app), "-o", s(&b), "-k", s(&ring)], &cache, &[]));
    assert!(second.contains(": 0 compressed"), "{second}");
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    let no_cache = t.path().join("c.spk");
    let third = ok(&run(
        &["pack", s(&app), "-o", s(&no_cache), "-k", s(&ring), "--no-cache"],
        &cache,
        &[],
    ));
    assert!(third.contains(", 0 from the cache"), "{third}");
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&no_cache).unwrap());

    let cleaned = run(&["cache", "clean"], &cache, &[]);
    ok(&cleaned);
    let said = String::from_utf8_lossy(&cleaned.stdout).into_owned();
    assert!(
        said.contains("removed ") && said.contains("0 blocks (0 bytes) kept"),
        "{said}"
    );
    let fourth = ok(&run(&["pack", s(&app), "-o", s(&b), "-k", s(&ring)], &cache, &[]));
    assert!(fourth.contains(", 0 from the cache"), "{fourth}");
}

#[test]
fn compression_levels_and_a_bad_cache_size() {
    let t = tempfile::tempdir().unwrap();
    let (app, cache, ring) = (
        t.path().join("app"),
        t.path().join("cache"),
        t.path().join("ring"),
    );
    app_tree(&app);
    ok(&run(&["keygen", "--keyring", s(&ring)], &cache, &[]));
    let mut sizes = Vec::new();
    for (name, flags) in [
        ("fast", &["--fast"][..]),
        ("fast2", &["--compression", "fast"][..]),
        ("default", &[][..]),
        ("best", &["--compression", "best"][..]),
    ] {
        let out = t.path().join(format!("{name}.spk"));
        let mut args = vec!["pack", s(&app), "-o", s(&out), "-k", s(&ring)];
        args.extend_from_slice(flags);
        ok(&run(&args, &cache, &[]));
        ok(&run(&["verify", s(&out)], &cache, &[]));
        sizes.push(std::fs::metadata(&out).unwrap().len());
    }
    assert_eq!(sizes[0], sizes[1]);
    assert!(sizes[0] > sizes[2], "{sizes:?}");
    let bad = run(
        &["pack", s(&app), "-o", s(&t.path().join("x.spk")), "-k", s(&ring)],
        &cache,
        &[("SOIREE_PACK_CACHE_SIZE", "lots")],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("SOIREE_PACK_CACHE_SIZE"));
    // A small limit is kept after the command.
    ok(&run(
        &["pack", s(&app), "-o", s(&t.path().join("y.spk")), "-k", s(&ring)],
        &cache,
        &[("SOIREE_PACK_CACHE_SIZE", "1K")],
    ));
    let kept: u64 = walk(&cache).iter().map(|p| p.metadata().unwrap().len()).sum();
    assert!(kept <= 1024, "{kept} bytes left in the cache");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn sign_copies_and_sign_verify_checks_everything() {
    let t = tempfile::tempdir().unwrap();
    let (app, cache) = (t.path().join("app"), t.path().join("cache"));
    let (dev, rel) = (t.path().join("dev.keyring"), t.path().join("rel.keyring"));
    app_tree(&app);
    ok(&run(&["keygen", "--keyring", s(&dev)], &cache, &[]));
    ok(&run(&["keygen", "--keyring", s(&rel)], &cache, &[]));
    let spk = t.path().join("dev.spk");
    ok(&run(
        &["pack", s(&app), "-o", s(&spk), "-k", s(&dev)],
        &cache,
        &[],
    ));
    for (name, extra) in [("fast", None), ("checked", Some("--verify"))] {
        let out = t.path().join(format!("{name}.spk"));
        let mut args = vec!["sign", s(&spk), "-o", s(&out), "-k", s(&rel)];
        args.extend(extra);
        let said = ok(&run(&args, &cache, &[]));
        assert!(said.contains("the app id changes"), "{said}");
        ok(&run(&["verify", s(&out)], &cache, &[]));
    }
    assert_eq!(
        std::fs::read(t.path().join("fast.spk")).unwrap(),
        std::fs::read(t.path().join("checked.spk")).unwrap()
    );
    // A damaged archive is caught by --verify; without it, by verify afterwards.
    let mut bytes = std::fs::read(&spk).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x20;
    let bad = t.path().join("bad.spk");
    std::fs::write(&bad, bytes).unwrap();
    let checked = run(
        &[
            "sign",
            s(&bad),
            "-o",
            s(&t.path().join("bad-checked.spk")),
            "-k",
            s(&rel),
            "--verify",
        ],
        &cache,
        &[],
    );
    assert_eq!(checked.status.code(), Some(1));
    let copied = t.path().join("bad-copied.spk");
    let _ = run(&["sign", s(&bad), "-o", s(&copied), "-k", s(&rel)], &cache, &[]);
    if copied.exists() {
        assert!(!run(&["verify", s(&copied)], &cache, &[]).status.success());
    }
}

/// A party whose package maps a command source's output and a local `.tar.gz`: a build leaves
/// `built/v1/KEY` and `extracted/v1/HEX-tar.gz-strip0` in the source cache.
fn party_with_cached_sources() -> common::Party {
    let party = common::Party::new(
        "gen = { command = [\"sh\", \"-c\", \"head -c 20000 /dev/zero > $OUT/zeros\"], dir = \"arch-src\" }\n\
         arch = { path = \"arch.tar.gz\" }",
        &["both"],
    );
    party.recipe(
        "both",
        "[[files]]\nsource = \"gen\"\nto = \"/opt/gen\"\n\n[[files]]\nsource = \"arch\"\nto = \"/opt/arch\"\n",
    );
    let src = party.path("arch-src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("hello.txt"), "hello\n".repeat(500)).unwrap();
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(party.path("arch.tar.gz"))
        .arg("-C")
        .arg(&src)
        .arg("hello.txt")
        .status()
        .unwrap();
    assert!(tar.success());
    party
}

/// `soiree-pack cache ARGS` with the party's caches.
fn cache_cmd(party: &common::Party, args: &[&str]) -> Output {
    common::soiree(party.dir.path(), party.dir.path())
        .arg("cache")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn entries_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn set_age(path: &Path, secs_ago: u64) {
    let when = std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago);
    std::fs::File::open(path).unwrap().set_modified(when).unwrap();
}

#[test]
fn cache_clean_covers_the_source_cache_only_its_own_entries_and_never_under_a_build() {
    let party = party_with_cached_sources();
    let out = party.run(&["build", "--fast", "--out", "dist"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // common::soiree puts the caches under the party's folder: blocks and sources.
    let root = party.path("cache/soiree-pack/sources");
    let (built, extracted) = (root.join("built/v1"), root.join("extracted/v1"));
    let (built_key, extracted_name) = (entries_in(&built), entries_in(&extracted));
    assert_eq!(
        (built_key.len(), extracted_name.len()),
        (1, 1),
        "{built_key:?} {extracted_name:?}"
    );
    assert!(
        extracted_name[0].ends_with("-tar.gz-strip0"),
        "{extracted_name:?}"
    );
    let (built_entry, extracted_entry) = (built.join(&built_key[0]), extracted.join(&extracted_name[0]));

    // A build that reuses them marks them used, for the least-recently-used order.
    set_age(&built_entry, 86_400);
    set_age(&extracted_entry, 86_400);
    let out = party.run(&["build", "--fast", "--out", "dist"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for e in [&built_entry, &extracted_entry] {
        assert!(
            std::fs::metadata(e).unwrap().modified().unwrap() > day_ago,
            "{}",
            e.display()
        );
    }

    // What the cache's naming does not explain is not its own: a user's note, a symlink out
    // (named like an entry), and the folder it points to.
    let outside = party.path("precious");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("keep.txt"), "mine\n").unwrap();
    std::fs::create_dir_all(root.join("sha256")).unwrap();
    std::fs::write(root.join("sha256/notes.txt"), "mine\n").unwrap();
    std::os::unix::fs::symlink(&outside, built.join("ab".repeat(32))).unwrap();
    // A killed build's scratch folder, with a read-only folder inside as Go leaves them.
    let scratch = root.join("built/tmp/gen-killed/work/ro");
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::write(scratch.join("f"), "x").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&scratch, std::fs::Permissions::from_mode(0o555)).unwrap();

    let info = cache_cmd(&party, &["info"]);
    let said = stdout(&info);
    assert!(
        info.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&info.stderr)
    );
    for line in [
        "soiree-pack/blocks: ",
        "soiree-pack/sources: 3 entries, ",
        "  downloads: 0, 0 bytes",
        "  extracted archives: 1, 3000 bytes",
        "  command outputs: 1, 20000 bytes",
        "  leftovers: 1, 1 bytes",
    ] {
        assert!(said.contains(line), "no `{line}` in:\n{said}");
    }

    // While a build reads the source cache, nothing is removed.
    let held = soiree_fs::Lock::acquire_shared(&root.join("in-use.lock"), "a test build", |_| {}).unwrap();
    let refused = cache_cmd(&party, &["clean"]);
    assert_eq!(refused.status.code(), Some(3), "{}", stdout(&refused));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("in use by pid") && err.contains("a test build"),
        "{err}"
    );
    assert!(built_entry.is_dir() && extracted_entry.is_dir());
    drop(held);

    // --keep trims both caches together, least recently used first: the leftover always goes,
    // then the archive, then the blocks (used after it); the command output, used last, stays.
    set_age(&extracted_entry, 7200);
    set_age(&built_entry, 3600);
    for e in walk(&party.path("cache/soiree-pack/blocks")) {
        set_age(&e, 5000);
    }
    let trimmed = cache_cmd(&party, &["clean", "--keep", "20000"]);
    let said = stdout(&trimmed);
    assert!(
        trimmed.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&trimmed.stderr)
    );
    assert!(
        said.contains("sources: removed 2 entries (3001 bytes); 1 entries (20000 bytes) kept"),
        "{said}"
    );
    assert!(
        said.contains("blocks: removed ") && said.contains("; 0 blocks (0 bytes) kept"),
        "{said}"
    );
    assert!(built_entry.is_dir() && !extracted_entry.exists() && !root.join("built/tmp/gen-killed").exists());

    // `--blocks` leaves the sources alone; a plain clean empties everything that is its own.
    let only = cache_cmd(&party, &["clean", "--blocks"]);
    assert!(
        only.status.success() && !stdout(&only).contains("sources"),
        "{}",
        stdout(&only)
    );
    assert!(built_entry.is_dir());
    let all = cache_cmd(&party, &["clean"]);
    assert!(all.status.success(), "{}", String::from_utf8_lossy(&all.stderr));
    assert!(!built_entry.exists());
    assert_eq!(
        std::fs::read_to_string(root.join("sha256/notes.txt")).unwrap(),
        "mine\n"
    );
    assert!(built.join("ab".repeat(32)).is_symlink());
    assert_eq!(
        std::fs::read_to_string(outside.join("keep.txt")).unwrap(),
        "mine\n"
    );
}
