//! `cargo xtask test` is the one test command: CI and the README call exactly it, and on a
//! machine that lacks what the tests run it names the exact `apt-get install` line instead of
//! letting tests fail one by one.

use xtask::{test_deps, workspace_root};

#[test]
fn ci_and_readme_run_cargo_xtask_test() {
    let root = workspace_root();
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    let commands: Vec<&str> = ci
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    assert!(commands.contains(&"cargo xtask test"), "{ci}");
    // The package list lives in xtask alone.
    assert!(!ci.contains("apt-get"), ".ci/run installs packages itself:\n{ci}");
    assert!(!commands.iter().any(|c| c.starts_with("cargo test")), "{ci}");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("\ncargo xtask test\n"), "README's test command");
    assert!(
        !readme.contains("\ncargo test --workspace\n"),
        "README's test command"
    );
}

/// Without root and without the programs, it prints the apt-get line for every package and
/// stops before any test runs.
#[test]
fn a_machine_without_the_packages_is_told_what_to_install() {
    let xtask = env!("CARGO_BIN_EXE_xtask");
    let mut cmd = if unsafe { libc::geteuid() } == 0 {
        // As root it would install them: run it as nobody instead.
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("setpriv (util-linux)");
        let mut c = std::process::Command::new(setpriv);
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", xtask]);
        c
    } else {
        std::process::Command::new(xtask)
    };
    // Nothing on PATH: no capnp, no dpkg-query, no apt-get, no cargo.
    let out = cmd
        .arg("test")
        .env("PATH", "/nonexistent")
        .env("CARGO", "/nonexistent/cargo")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    let all: Vec<&str> = test_deps::PACKAGES.iter().map(|(p, _, _)| *p).collect();
    assert!(err.contains(&test_deps::install_line(&all, false)), "{err}");
    assert!(err.contains("bubblewrap: packages run as grains"), "{err}");
    assert!(!err.contains("cargo test"), "{err}");
}

#[test]
fn this_machine_has_every_package() {
    // `cargo xtask test` installs them before the suite runs, so here none may be missing.
    assert_eq!(test_deps::missing(), Vec::<&str>::new());
}
