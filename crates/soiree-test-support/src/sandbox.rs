//! Running a package tree in bubblewrap with nothing of the host: the tree as `/`, no `/usr`,
//! no `/proc` (a grain has none), a fresh `/dev`, and only the variables given.

use std::path::Path;
use std::process::{Command, Output};

/// The bubblewrap flags that make namespaces on this machine. Panics, saying why, when none do.
pub fn bwrap_flags() -> Vec<&'static str> {
    let empty = tempfile::tempdir().unwrap();
    let candidates: [&[&str]; 3] = [
        &["--unshare-all"],
        &["--unshare-all", "--unshare-user"],
        &[
            "--unshare-user-try",
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-uts",
            "--unshare-net",
        ],
    ];
    let mut errors = Vec::new();
    for flags in candidates {
        // `true` from the host's own /usr: this checks that the namespaces can be made at all.
        let out = Command::new("bwrap")
            .args(flags)
            .args(["--ro-bind", "/", "/", "--bind"])
            .arg(empty.path())
            .args(["/mnt", "--dev", "/dev", "true"])
            .output();
        match out {
            Ok(o) if o.status.success() => return flags.to_vec(),
            Ok(o) => errors.push(format!(
                "{}: {}",
                flags.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => errors.push(format!("{}: {e}", flags.join(" "))),
        }
    }
    // A sandbox test that cannot run must fail, not pass without checking anything.
    panic!(
        "bubblewrap is missing or cannot create namespaces here (`cargo xtask test` installs bubblewrap): {}",
        errors.join("; ")
    )
}

/// Runs `argv` in bubblewrap with `root` as `/` and only `env` in the environment. No tmpfs on
/// /tmp: test scripts keep their host paths inside the package, and a checkout under /tmp (as
/// CI's may be) would be hidden by one.
pub fn run_isolated(root: &Path, env: &[(&str, &str)], argv: &[&str]) -> Output {
    let mut cmd = Command::new("bwrap");
    cmd.args(bwrap_flags()).arg("--bind").arg(root).args([
        "/",
        "--dev",
        "/dev",
        "--clearenv",
        "--chdir",
        "/",
    ]);
    for (k, v) in env {
        cmd.args(["--setenv", k, v]);
    }
    cmd.args(argv).output().expect("bwrap")
}
