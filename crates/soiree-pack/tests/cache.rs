//! `--compression`/`--fast`, the block cache (`SOIREE_PACK_CACHE_DIR`, `--no-cache`,
//! `SOIREE_PACK_CACHE_SIZE`, `cache clean`) and `sign` without and with `--verify`, through the
//! command line.

use std::path::Path;
use std::process::{Command, Output};

use soiree_schema::manifest_capnp::manifest;

fn run(args: &[&str], cache: &Path, extra_env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_soiree-pack"));
    cmd.args(args)
        .env("SOIREE_PACK_CACHE_DIR", cache)
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
