//! The repository's `demo` profile: `soiree-pack run uro|server|client --profile demo` build
//! their command sources (the fixture Uro release with mix, the ENet project exported for
//! Debian's Godot 3 server) and reach "up" with every service ready, then stop on Ctrl-C.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn repo_party() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../party.toml")
}

/// `soiree-pack run PACKAGE --profile demo --port 0` in `dir`, its output in `dir/run.log`.
fn start(dir: &Path, package: &str) -> (Child, PathBuf) {
    let log = dir.join(format!("{package}.log"));
    let file = std::fs::File::create(&log).unwrap();
    let party = repo_party();
    let child = common::soiree(dir, dir)
        .args(["run", package, "--profile", "demo", "--port", "0", "--party"])
        .arg(&party)
        .env("NO_COLOR", "1")
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    (child, log)
}

fn wait_for(child: &mut Child, log: &Path, text: &str, timeout: Duration) -> String {
    let start = Instant::now();
    loop {
        let now = std::fs::read_to_string(log).unwrap_or_default();
        if now.contains(text) {
            return now;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("run stopped ({status}) before `{text}`:\n{now}");
        }
        assert!(start.elapsed() < timeout, "no `{text}` after {timeout:?}:\n{now}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Ctrl-C; `run` must stop the grain and exit 0.
fn interrupt(mut child: Child, log: &Path) -> String {
    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            assert!(status.success(), "run exits 0 after Ctrl-C ({status}):\n{text}");
            return text;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!(
                "did not stop:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The host port `run` says the HTTP bridge's port is on.
fn bridge_port(log: &str) -> u16 {
    let after = log
        .split("(the HTTP bridge's port: http://127.0.0.1:")
        .nth(1)
        .unwrap_or_else(|| panic!("no bridge port in:\n{log}"));
    after.split('/').next().unwrap().parse().unwrap()
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    Some(text)
}

fn run_demo(package: &str, services: usize, ready_lines: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (mut child, log) = start(dir.path(), package);
    let up = format!("{services} services of `{package}` are up");
    let text = wait_for(&mut child, &log, &up, Duration::from_secs(240));
    for line in ready_lines {
        assert!(text.contains(line), "`{line}` before up:\n{text}");
    }
    let port = bridge_port(&text);
    let page = get(port, if package == "uro" { "/api/v1/health" } else { "/" }).unwrap_or_default();
    assert!(page.starts_with("HTTP/1.1 200"), "{package}: {page}\n{text}");
    let text = interrupt(child, &log);
    (dir, text)
}

#[test]
fn run_uro_with_the_demo_profile_builds_the_release_with_mix_and_comes_up() {
    let (_dir, log) = run_demo(
        "uro",
        3,
        &[
            "source `uro-release`: running mix release",
            "redis is ready (tcp port 6379)",
            "uro is ready (tcp port 4000)",
            "nginx is ready (tcp port 8000)",
        ],
    );
    assert!(log.contains("uro: listening on 127.0.0.1:4000"), "{log}");
}

#[test]
fn run_server_with_the_demo_profile_waits_for_godot_to_listen() {
    let (_dir, log) = run_demo(
        "server",
        3,
        &[
            "source `godot-server`: running sh -c 'godot3-server --path . --export-pack",
            "godot| server: listening on UDP 7777",
            "godot is ready (a line with \"listening on UDP\" in its output)",
            "nginx is ready (tcp port 8000)",
            "relay is ready (tcp port 7780)",
        ],
    );
    assert!(!log.contains("stand-in"), "{log}");
}

#[test]
fn run_client_with_the_demo_profile_serves_the_exported_download() {
    let (dir, log) = run_demo("client", 1, &["nginx is ready (tcp port 8000)"]);
    assert!(
        log.contains("source `godot-client`: running godot3-server"),
        "{log}"
    );
    // The download is the project really exported: a Godot pack.
    let out = common::soiree(dir.path(), dir.path())
        .args(["ls", "client", "--profile", "demo", "--json", "--party"])
        .arg(repo_party())
        .output()
        .unwrap();
    let listing = common::text(&out.stdout);
    assert!(
        listing.contains("/opt/soiree/site/downloads/v_sekai_demo.pck")
            && listing.contains("/opt/soiree/site/downloads/soiree-tunnel-linux-x86_64"),
        "{listing}"
    );
}
