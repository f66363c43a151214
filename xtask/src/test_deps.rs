//! `cargo xtask test`: the Debian packages the test suite runs (the one list of them), installed
//! when missing and this is root, or named in the exact `apt-get install` line to run; the same
//! for the PyPI packages (pip); then `cargo test --workspace`. `.ci/run` and the README call exactly this.

use std::process::Command;

/// Each package the tests need, with the command that shows it is there (when one does: a
/// `capnp` built from source counts as much as Debian's) and what needs it.
pub const PACKAGES: &[(&str, Option<&str>, &str)] = &[
    (
        "capnproto",
        Some("capnp"),
        "the Cap'n Proto bindings' freshness test",
    ),
    ("xz-utils", Some("xz"), "packages checked against the real xz"),
    ("bubblewrap", Some("bwrap"), "packages run as grains"),
    ("gcc", Some("gcc"), "programs with $ORIGIN search paths"),
    ("patchelf", Some("patchelf"), "programs with edited search paths"),
    ("godot3-server", None, "the game server package"),
    ("erlang-base", None, "the Uro release"),
    ("elixir", None, "the Uro release, built by mix"),
    ("redis-server", None, "Redis in the Uro and server packages"),
    ("nginx-light", None, "nginx in every package"),
    (
        "libcapnp-dev",
        None,
        "the schema's `-> stream` methods import /capnp/stream.capnp (codegen freshness)",
    ),
    (
        "chromium",
        None,
        "soiree-up's Powerbox link made in a real browser",
    ),
    (
        "chromium-driver",
        None,
        "the WebDriver that test drives Chromium through",
    ),
    ("podman", None, "the OCI images run as containers"),
    ("runc", None, "the runtime podman runs the images with"),
    (
        "podman-compose",
        None,
        "reading the compose file build --target compose writes",
    ),
    ("uidmap", None, "podman's user namespaces (newuidmap)"),
    ("slirp4netns", None, "podman's loopback-only port publishing"),
    (
        "fuse-overlayfs",
        None,
        "podman's storage where the kernel's overlay is not allowed",
    ),
    ("passt", None, "podman's user-mode networking (pasta)"),
    (
        "skopeo",
        None,
        "the OCI images inspected, copied and pulled back from a registry",
    ),
    ("umoci", None, "the OCI images unpacked by another implementation"),
    ("docker-registry", None, "push to a real registry on loopback"),
    ("apache2-utils", None, "htpasswd: the registry's password file"),
];

/// The PyPI packages the tests run (with the module that shows each is there): real Helm code
/// and Kubernetes' schemas for the chart of `build --target helm` (fixtures/deploy/check_chart.py).
pub const PIP_PACKAGES: &[(&str, &str, &str)] = &[
    (
        "helm-python-sdk",
        "helm_python",
        "Helm v4 as a library: the chart linted and rendered",
    ),
    (
        "kubernetes-validate",
        "kubernetes_validate",
        "every rendered manifest checked against Kubernetes' schemas",
    ),
    ("pyyaml", "yaml", "the rendered manifests read"),
];

/// The packages of [`PIP_PACKAGES`] the `python3` on PATH cannot import.
pub fn pip_missing() -> Vec<&'static str> {
    PIP_PACKAGES
        .iter()
        .filter(|(_, module, _)| {
            !Command::new("python3")
                .args(["-c", &format!("import {module}")])
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(|(pkg, _, _)| *pkg)
        .collect()
}

/// Installs the missing PyPI packages with pip (as root: `--break-system-packages`, as CI
/// runs it), or says what to run and fails.
pub fn ensure_pip_installed() -> Result<(), String> {
    let need = pip_missing();
    if need.is_empty() {
        return Ok(());
    }
    let line = format!(
        "python3 -m pip install --break-system-packages {}",
        need.join(" ")
    );
    if !is_root() {
        return Err(format!(
            "the tests need PyPI packages this machine lacks: {}
install them:
  {line}",
            need.join(", ")
        ));
    }
    eprintln!("installing from PyPI: {}", need.join(" "));
    let status = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--break-system-packages"])
        .args(&need)
        .status()
        .map_err(|e| format!("{line}: {e}"))?;
    let still = pip_missing();
    if status.success() && still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{line} failed ({status}); still missing: {}",
            still.join(" ")
        ))
    }
}

/// The packages of [`PACKAGES`] this machine lacks.
pub fn missing() -> Vec<&'static str> {
    PACKAGES
        .iter()
        .filter(|(pkg, command, _)| !installed(pkg, *command))
        .map(|(pkg, _, _)| *pkg)
        .collect()
}

fn installed(package: &str, command: Option<&str>) -> bool {
    if command.is_some_and(on_path) {
        return true;
    }
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Status}", package])
        .output()
        .is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("install ok installed")
        })
}

fn on_path(command: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(command).is_file()))
}

/// The command that installs `packages`: the line a user runs (with sudo) or that root runs.
pub fn install_line(packages: &[&str], root: bool) -> String {
    let sudo = if root { "" } else { "sudo " };
    format!("{sudo}apt-get install -y {}", packages.join(" "))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Installs what is missing (as root, with apt-get), or says what to run and fails.
pub fn ensure_installed() -> Result<(), String> {
    let need = missing();
    if need.is_empty() {
        return Ok(());
    }
    let why: Vec<String> = PACKAGES
        .iter()
        .filter(|(p, _, _)| need.contains(p))
        .map(|(p, _, why)| format!("  {p}: {why}"))
        .collect();
    let has_apt = on_path("apt-get");
    if !is_root() || !has_apt {
        return Err(format!(
            "the tests need packages this machine lacks:\n{}\ninstall them{}:\n  {}",
            why.join("\n"),
            if has_apt {
                ""
            } else {
                " (Debian/Ubuntu names; apt-get is not here)"
            },
            install_line(&need, false)
        ));
    }
    eprintln!("installing: {}", need.join(" "));
    let run = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("apt-get: {e}"))
            .and_then(|s| {
                if s.success() {
                    Ok(())
                } else {
                    Err(format!("apt-get {} failed: {s}", args[0]))
                }
            })
    };
    run(&["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq"];
    args.extend(&need);
    run(&args)?;
    let still = missing();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "still missing after apt-get install: {}",
            still.join(" ")
        ))
    }
}

/// `cargo xtask test [ARGS…]`: the packages, then `cargo test --workspace ARGS…`.
pub fn run(args: &[String]) -> Result<(), String> {
    ensure_installed()?;
    ensure_pip_installed()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["test", "--workspace"])
        .args(args)
        .status()
        .map_err(|e| format!("cargo test: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test --workspace failed: {status}"))
    }
}
