//! A grain's life under `up`: stopped when idle unless held awake, started again by the next
//! request; a `/var` in use and the offline stand-in bridge refused with nothing left running.

mod common;

use std::time::Duration;

use common::echo_package::{grain_line, wait_for, EchoPackage};
use common::http;

/// The echo app, when this binary runs inside a grain.
#[test]
fn echo_server() {
    common::echo_app::serve_if_asked();
}

#[test]
fn the_offline_stand_in_bridge_is_refused() {
    let stand_in =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/inputs/sandstorm-bundle/bin");
    let root = tempfile::tempdir().unwrap();
    std::fs::copy(
        stand_in.join("sandstorm-http-bridge"),
        root.path().join("sandstorm-http-bridge"),
    )
    .unwrap();
    let e = soiree_up::check_bridge(root.path()).unwrap_err();
    let text = format!("{e}");
    assert!(text.contains("offline stand-in"), "{text}");
    let help = miette::Diagnostic::help(&e).unwrap().to_string();
    assert!(help.contains("--source sandstorm-bundle=DIR"), "{help}");
    // A party with it does not start, and nothing is left running (no grain was started).
    let opts = soiree_up::Options {
        grains: vec![soiree_up::GrainSpec {
            name: "x".into(),
            root: root.path().to_path_buf(),
            var: root.path().join("var"),
            log: None,
        }],
        port: 0,
        bwrap: "bwrap".into(),
        idle: None,
        links: Vec::new(),
    };
    let err = common::up(opts).err().unwrap();
    assert!(err.contains("StandInBridge"), "{err}");
    assert!(
        !root.path().join("var").exists(),
        "no /var made for a refused grain"
    );
}

/// With a 1 s idle check, an unused grain stops and the next request starts it again; a
/// `stayAwake` wake lock taken by the app over `/tmp/sandstorm-api` keeps it running past the
/// checks, and releasing it lets the grain stop.
#[test]
fn idle_grains_stop_unless_held_awake_and_start_again_on_the_next_request() {
    let Some(echo) = EchoPackage::stage() else { return };
    let up =
        common::up(echo.options(&["echo"], Some(Duration::from_secs(1)))).unwrap_or_else(|e| panic!("{e}"));
    let a = up.addr;
    let ui = "ui-echo.localhost";
    let log_text = || echo.log();

    assert_eq!(http(a, ui, "GET", "/x", &[], b"").status, 200);
    let line = wait_for(a, "echo", "(stopped)", Duration::from_secs(10));
    assert!(line.contains("(stopped)"), "{line}");
    // The next request starts it again, through a new session.
    let again = http(a, ui, "GET", "/x", &[], b"");
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(grain_line(a, "echo").contains("(running)"));
    assert_eq!(log_text().matches("echo listening").count(), 2, "{}", log_text());

    // A wake lock keeps it running through several idle checks, and the shell shows it.
    assert_eq!(
        http(a, ui, "GET", "/stay-awake?secs=4", &[], b"").text(),
        "holding\n"
    );
    std::thread::sleep(Duration::from_millis(3500));
    let line = grain_line(a, "echo");
    assert!(
        line.contains("(running)") && line.contains("awake: echo test lock"),
        "{line}\n{}",
        log_text()
    );
    let line = wait_for(a, "echo", "(stopped)", Duration::from_secs(10));
    assert!(
        line.contains("(stopped)") && !line.contains("awake"),
        "{line}\n{}",
        log_text()
    );
    assert!(log_text().contains("releasing the wake lock"), "{}", log_text());
}

/// Two grains on one `/var` would corrupt each other: the second is refused by the lock beside
/// it, naming the holder, and the first is stopped again — nothing is left running.
#[test]
fn a_var_in_use_is_refused_and_nothing_is_left_running() {
    let Some(echo) = EchoPackage::stage() else { return };
    let mut opts = echo.options(&["first", "second"], None);
    for g in &mut opts.grains {
        g.var = echo.work.path().join("var");
    }
    let e = common::up(opts).err().unwrap();
    assert!(e.contains("VarInUse"), "{e}");
    assert!(e.contains("soiree-pack up (first)"), "the holder is named: {e}");
    // The first grain was stopped: its lock is free again.
    let lock = echo.work.path().join("var.lock");
    assert!(soiree_fs::Lock::try_acquire(&lock, "test").is_ok(), "{e}");
    let left = soiree_test_support::processes_naming(echo.work.path());
    assert!(left.is_empty(), "still running: {left:#?}");
}
