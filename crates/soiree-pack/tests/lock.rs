//! `soiree-pack lock` and `build` with a pinned download, served from loopback.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

/// Serves `body` for up to `n` requests on 127.0.0.1, then stops. Returns the base URL.
fn serve(body: Vec<u8>, n: usize) -> (String, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut served = 0;
        listener.set_nonblocking(false).unwrap();
        for stream in listener.incoming().take(n) {
            let Ok(mut s) = stream else { break };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(&body));
            served += 1;
        }
        served
    });
    (url, handle)
}

/// A party with one package whose recipe places the source `tool` at /bin/tool; `sources` are
/// the `[sources]` (and profile) tables.
fn tool_party(dir: &Path, sources: &str) {
    std::fs::create_dir(dir.join("recipes")).unwrap();
    std::fs::write(
        dir.join("recipes/tool.toml"),
        "[[files]]\nsource = \"tool\"\nto = \"/bin/tool\"\nexecutable = true\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("party.toml"),
        format!(
            "# a party with one download\n[party]\nname = \"dl\"\napp-version = 1\nmarketing-version = \"1\"\n\n\
             {sources}\n[packages.tool]\ntitle = \"Tool\"\nrecipes = [{{ use = \"tool\" }}]\n"
        ),
    )
    .unwrap();
}

/// `soiree-pack ARGS` in `dir`, with its own home, cache and keys.
fn soiree(dir: &Path, args: &[&str]) -> Output {
    common::soiree(dir, dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn sha256_hex(body: &[u8]) -> String {
    use sha2::Digest;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(body))
}

#[test]
fn lock_records_a_pinned_download_and_build_uses_it_offline() {
    let t = tempfile::tempdir().unwrap();
    let body = b"#!/bin/sh\necho served\n".to_vec();
    let sha = sha256_hex(&body);
    let (url, server) = serve(body.clone(), 1);
    tool_party(
        t.path(),
        &format!("[sources]\ntool = {{ url = \"{url}/tool.sh\", sha256 = \"{sha}\" }}\n"),
    );
    let run = |args: &[&str]| soiree(t.path(), args);
    let offline_first = run(&["build", "--offline"]);
    assert_eq!(offline_first.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&offline_first.stderr).contains("tool"),
        "names the missing source"
    );

    let locked = run(&["lock"]);
    assert!(
        locked.status.success(),
        "{}",
        String::from_utf8_lossy(&locked.stderr)
    );
    assert_eq!(server.join().unwrap(), 1);
    let lock = std::fs::read_to_string(t.path().join("party.lock")).unwrap();
    assert!(lock.contains(&sha) && lock.contains("tool.sh"), "{lock}");

    // The server is gone: the build is served from the cache.
    let built = run(&["build", "--offline"]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    soiree_spk::verify(&t.path().join("dist/tool.spk")).unwrap();
    soiree_spk::unpack(&t.path().join("dist/tool.spk"), &t.path().join("unpacked")).unwrap();
    assert_eq!(std::fs::read(t.path().join("unpacked/bin/tool")).unwrap(), body);
}

#[test]
fn an_unpinned_release_download_is_pinned_by_lock_on_first_use() {
    let t = tempfile::tempdir().unwrap();
    let body = b"#!/bin/sh\necho release\n".to_vec();
    let sha = sha256_hex(&body);
    let (url, server) = serve(body.clone(), 1);
    std::fs::write(t.path().join("tool.sh"), "#!/bin/sh\necho stand-in\n").unwrap();
    tool_party(
        t.path(),
        &format!(
            "[sources]\ntool = {{ path = \"tool.sh\" }}\n\n\
             [profiles.release.sources]\ntool = {{ url = \"{url}/tool.sh\" }}\n"
        ),
    );
    let run = |args: &[&str]| {
        let out = soiree(t.path(), args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // The default profile needs no pin; the release profile's download has none yet.
    assert_eq!(run(&["check"]).0, Some(0));
    let (code, err) = run(&["check", "--profile", "release"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("source `tool` has a URL but no sha256"), "{err}");
    assert!(err.contains("soiree-pack lock"), "says how to pin it: {err}");
    assert!(err.contains("party.toml:"), "points into party.toml: {err}");

    let (code, err) = run(&["lock", "--profile", "release"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains(&sha) && err.contains("first download"), "{err}");
    assert_eq!(server.join().unwrap(), 1);
    let lock = std::fs::read_to_string(t.path().join("party.lock")).unwrap();
    assert!(lock.contains(&sha), "{lock}");

    // Locking without the profile keeps the release profile's entry.
    assert_eq!(run(&["lock"]).0, Some(0));
    assert!(std::fs::read_to_string(t.path().join("party.lock"))
        .unwrap()
        .contains(&sha));

    let (code, err) = run(&["check", "--profile", "release"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = run(&["build", "--profile", "release", "--offline"]);
    assert_eq!(code, Some(0), "{err}");
    soiree_spk::unpack(&t.path().join("dist/tool.spk"), &t.path().join("unpacked")).unwrap();
    assert_eq!(std::fs::read(t.path().join("unpacked/bin/tool")).unwrap(), body);

    // A lock entry for another URL pins nothing.
    let text = std::fs::read_to_string(t.path().join("party.toml")).unwrap();
    std::fs::write(
        t.path().join("party.toml"),
        text.replace("/tool.sh\" }", "/tool-2.sh\" }"),
    )
    .unwrap();
    let (code, err) = run(&["check", "--profile", "release"]);
    assert_eq!(code, Some(1), "{err}");
}
