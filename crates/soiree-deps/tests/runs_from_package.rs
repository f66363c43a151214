//! Programs packed with their closure (and nothing else) run from the unpacked package inside
//! bubblewrap, with the package as `/` and no /usr or /proc from the host.

mod common;

use std::path::{Path, PathBuf};

use soiree_deps::{closure, Options};

/// Packs the closure of `programs`, unpacks it and runs `argv` from it.
fn run_packed(programs: &[&Path], argv: &[&str]) -> Option<std::process::Output> {
    let c = closure(programs, &Options::default()).unwrap();
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let unpacked = common::pack_and_unpack(&c, argv, work.path());
    assert!(!unpacked.join("usr/share").exists(), "only the closure is packed");
    Some(common::run_isolated(&unpacked, &[], argv))
}

/// Asserts that `argv` behaves in the sandbox as it does on the host: same output, same status.
/// (`godot3-server --version` exits 255 on the host too.)
fn assert_same_as_host(out: &std::process::Output, argv: &[&str]) {
    let host = std::process::Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .unwrap();
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stdout)),
        (host.status.code(), String::from_utf8_lossy(&host.stdout)),
        "{argv:?} in the sandbox (left) and on the host (right); sandbox stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_success(out: &std::process::Output, argv: &[&str]) {
    assert!(
        out.status.success(),
        "{argv:?} failed in the sandbox: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn godot3_server_prints_its_version() {
    let godot = common::godot();
    let argv = ["/usr/bin/godot3-server", "--version"];
    let Some(out) = run_packed(&[&godot], &argv) else {
        return;
    };
    assert_same_as_host(&out, &argv);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("3."),
        "godot3-server --version printed {stdout:?}"
    );
}

#[test]
fn redis_server_prints_its_version() {
    let redis = common::redis();
    let argv = ["/usr/bin/redis-server", "--version"];
    let Some(out) = run_packed(&[&redis], &argv) else {
        return;
    };
    assert_same_as_host(&out, &argv);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("Redis server v="),
        "redis-server --version printed {stdout:?}"
    );
}

/// A script in a directory of its own on the host; its closure is found from its `#!` line.
fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn sh_script_runs_with_only_dash_and_its_libraries() {
    let scripts = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let hello = script(scripts.path(), "hello", "#!/bin/sh\necho \"hello from $0\"\n");
    let c = closure(&[&hello], &Options::default()).unwrap();
    let sh = &c.objects[Path::new("/bin/sh")];
    assert_eq!(sh.reasons[0].how, soiree_deps::How::Shebang);
    assert!(c.objects.contains_key(Path::new("/lib64/ld-linux-x86-64.so.2")));

    let argv = [hello.to_str().unwrap()];
    let Some(out) = run_packed(&[&hello], &argv) else {
        return;
    };
    assert_success(&out, &argv);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim(), format!("hello from {}", hello.display()));
}

#[test]
fn env_script_finds_its_interpreter_on_path() {
    let scripts = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let hello = script(scripts.path(), "hello-env", "#!/usr/bin/env sh\necho via env\n");
    let c = closure(&[&hello], &Options::default()).unwrap();
    assert!(c.objects.contains_key(Path::new("/usr/bin/env")));
    let sh = &c.objects[Path::new("/usr/bin/sh")];
    assert!(matches!(&sh.reasons[0].how, soiree_deps::How::Env { name } if name == "sh"));

    let argv = [hello.to_str().unwrap()];
    let Some(out) = run_packed(&[&hello], &argv) else {
        return;
    };
    assert_success(&out, &argv);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "via env");
}
