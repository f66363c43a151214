//! Keyrings, exported keys and the block cache: a file that is not what it should be is refused
//! and left as it was, a FIFO in its place never hangs a command, and what holds private keys or
//! package contents is its owner's alone whatever the umask.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use soiree_schema::manifest_capnp::manifest;

/// `soiree-pack ARGS` with `cache` as its block cache, no signing key from the environment and
/// the umask `umask`; killed (and the test failed) if it runs longer than 60 s, since what is
/// tested here used to hang forever.
fn soiree(args: &[&str], cache: &Path, umask: libc::mode_t) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_soiree-pack"));
    cmd.args(args)
        .env("SOIREE_PACK_CACHE_DIR", cache)
        .env_remove("SOIREE_SIGNING_KEY")
        .env_remove("SOIREE_KEYRING")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: umask is async-signal-safe and touches nothing but the child's own mask.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(umask);
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("soiree-pack {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The stdout of a command that must have succeeded.
fn ok(out: Output) -> String {
    soiree_test_support::succeeded(out, "soiree-pack")
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

fn app_tree(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_title().set_default_text("Private");
        m.reborrow().init_app_marketing_version().set_default_text("1.0");
        m.init_continue_command().init_argv(1).set(0, "/run");
    }
    std::fs::write(
        root.join("sandstorm-manifest"),
        capnp::serialize::write_message_to_words(&b),
    )
    .unwrap();
    // Enough varied bytes for several blocks, so the cache holds several entries.
    let data: Vec<u8> = (0..6u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(root.join("run"), data).unwrap();
}

#[test]
fn keygen_refuses_a_file_that_is_not_a_keyring_and_leaves_it_alone() {
    let t = tempfile::tempdir().unwrap();
    let party = t.path().join("party.toml");
    let text_before = "[party]\nname = \"mine\"\napp-version = 1\n";
    std::fs::write(&party, text_before).unwrap();
    let out = soiree(&["keygen", "--keyring", p(&party)], t.path(), 0o022);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is not a keyring"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("no key was added"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&party).unwrap(), text_before);
    assert!(
        out.stdout.is_empty(),
        "no app id is printed for a key that was not added"
    );
}

#[test]
fn keygen_refuses_a_damaged_keyring_so_every_key_stays_readable() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    let first = ok(soiree(&["keygen", "-k", p(&ring)], t.path(), 0o022));
    let mut damaged = std::fs::read(&ring).unwrap();
    damaged.extend_from_slice(b"junk junk junk!!");
    std::fs::write(&ring, &damaged).unwrap();
    let out = soiree(&["keygen", "-k", p(&ring)], t.path(), 0o022);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("damaged keyring"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&ring).unwrap(), damaged, "nothing appended");
    // An empty file is a keyring without keys.
    let empty = t.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let id = ok(soiree(&["keygen", "-k", p(&empty)], t.path(), 0o022));
    assert_eq!(
        ok(soiree(&["keys", "list", "-k", p(&empty)], t.path(), 0o022)),
        id
    );
    assert_ne!(id, first);
}

#[test]
fn a_keyring_readable_by_others_is_made_0600_before_a_key_goes_in() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    ok(soiree(&["keygen", "-k", p(&ring)], t.path(), 0o022));
    std::fs::set_permissions(&ring, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = soiree(&["keygen", "-k", p(&ring)], t.path(), 0o022);
    ok(out.clone());
    assert_eq!(mode(&ring), 0o600);
    assert!(text(&out.stderr).contains("mode 0644"), "{}", text(&out.stderr));
    // A new keyring is 0600 under any umask.
    let fresh = t.path().join("fresh");
    ok(soiree(&["keygen", "-k", p(&fresh)], t.path(), 0o000));
    assert_eq!(mode(&fresh), 0o600);
}

#[test]
fn keys_export_to_a_file_is_0600_and_never_overwrites() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    let id = ok(soiree(&["keygen", "-k", p(&ring)], t.path(), 0o022));
    let key = t.path().join("key.bin");
    let out = soiree(
        &["keys", "export", id.trim(), "-k", p(&ring), "-o", p(&key)],
        t.path(),
        0o000,
    );
    ok(out);
    assert_eq!(mode(&key), 0o600);
    assert_eq!(std::fs::read(&key).unwrap(), std::fs::read(&ring).unwrap());
    std::fs::write(&key, b"something else").unwrap();
    let again = soiree(
        &["keys", "export", id.trim(), "-k", p(&ring), "-o", p(&key)],
        t.path(),
        0o022,
    );
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(std::fs::read(&key).unwrap(), b"something else");
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".soiree-key"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_fifo_in_place_of_a_keyring_is_refused_not_waited_on() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    mkfifo(&ring);
    for args in [
        vec!["keygen", "-k", p(&ring)],
        vec!["keys", "list", "-k", p(&ring)],
        vec![
            "keys",
            "export",
            "0000000000000000000000000000000000000000000000000000",
            "-k",
            p(&ring),
        ],
    ] {
        let out = soiree(&args, t.path(), 0o022);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("is a fifo, not a regular file"),
            "{}",
            text(&out.stderr)
        );
    }
    let app = t.path().join("app");
    app_tree(&app);
    let out = soiree(
        &["pack", p(&app), "-o", p(&t.path().join("a.spk")), "-k", p(&ring)],
        t.path(),
        0o022,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let dir = t.path().join("dir");
    std::fs::create_dir(&dir).unwrap();
    let out = soiree(&["keygen", "-k", p(&dir)], t.path(), 0o022);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("is a directory"),
        "{}",
        text(&out.stderr)
    );
}

/// Every path under `root`, itself included.
fn walk(root: &Path, found: &mut Vec<std::path::PathBuf>) {
    found.push(root.to_path_buf());
    if std::fs::symlink_metadata(root).unwrap().is_dir() {
        for e in std::fs::read_dir(root).unwrap() {
            walk(&e.unwrap().path(), found);
        }
    }
}

#[test]
fn the_block_cache_is_private_under_umask_000_and_a_fifo_entry_does_not_hang_pack() {
    let t = tempfile::tempdir().unwrap();
    let ring = t.path().join("keyring");
    ok(soiree(&["keygen", "-k", p(&ring)], t.path(), 0o022));
    let app = t.path().join("app");
    app_tree(&app);
    let cache = t.path().join("cache/soiree-pack/blocks");
    let first = t.path().join("first.spk");
    ok(soiree(
        &["pack", p(&app), "-o", p(&first), "-k", p(&ring)],
        &cache,
        0o000,
    ));
    let mut paths = Vec::new();
    walk(&t.path().join("cache"), &mut paths);
    let mut entries = Vec::new();
    for path in &paths {
        let meta = std::fs::symlink_metadata(path).unwrap();
        if meta.is_dir() {
            assert_eq!(mode(path), 0o700, "{}", path.display());
        } else {
            assert_eq!(mode(path) & 0o077, 0, "{}", path.display());
            entries.push(path.clone());
        }
    }
    assert!(entries.len() >= 2, "{entries:?}");
    // Every entry replaced by a FIFO: pack must neither hang nor use them.
    for entry in &entries {
        std::fs::remove_file(entry).unwrap();
        mkfifo(entry);
    }
    let second = t.path().join("second.spk");
    ok(soiree(
        &["pack", p(&app), "-o", p(&second), "-k", p(&ring)],
        &cache,
        0o022,
    ));
    assert_eq!(std::fs::read(&first).unwrap(), std::fs::read(&second).unwrap());
    for entry in &entries {
        assert!(std::fs::metadata(entry).unwrap().is_file(), "{}", entry.display());
    }
}
