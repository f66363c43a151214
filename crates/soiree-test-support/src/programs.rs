//! Programs from Debian packages the tests use, `ldd` as glibc reports a closure, building
//! small C programs with gcc, and the processes still running a test's files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A program from a Debian package the tests need; `.ci/run` installs them.
pub fn program(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.exists(),
        "{path} is missing: apt-get install {package} (`cargo xtask test` installs it)"
    );
    p
}

/// The loader and libraries `ldd` lists for `program` (the vDSO aside): the paths it names,
/// and their real paths.
pub fn ldd(program: &Path) -> Vec<(PathBuf, PathBuf)> {
    let out = Command::new("ldd").arg(program).output().expect("ldd (libc-bin)");
    assert!(out.status.success(), "ldd {} failed", program.display());
    let mut found = Vec::new();
    for line in text(&out.stdout).lines() {
        let line = line.trim();
        assert!(!line.contains("not found"), "ldd: {line}");
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.trim(),
            None => line,
        };
        let path = path.split(" (").next().unwrap_or(path).trim();
        if path.starts_with('/') {
            found.push((PathBuf::from(path), std::fs::canonicalize(path).unwrap()));
        }
    }
    found
}

/// The real paths `ldd` lists for `program`.
pub fn ldd_real(program: &Path) -> BTreeSet<PathBuf> {
    ldd(program).into_iter().map(|(_, real)| real).collect()
}

/// Runs a build tool (gcc, patchelf), failing the test with its output if it fails.
pub fn tool(program: &str, args: &[&str], package: &str) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (apt-get install {package}; .ci/run does)"));
    assert!(out.status.success(), "{program} {args:?}: {}", text(&out.stderr));
}

/// Compiles C source `src`, written to `dir/name`, with gcc and `args` (`-o` and flags).
pub fn gcc(dir: &Path, name: &str, src: &str, args: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, src).unwrap();
    let mut all = vec![file.to_str().unwrap()];
    all.extend_from_slice(args);
    tool("gcc", &all, "gcc");
}

/// The stdout of a command that must have succeeded; else the test fails with what it said.
pub fn succeeded(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The command lines of this machine's processes that mention `path` (a grain's sandbox names
/// its `/var` and package), each after its pid: what a test checks is gone once a party stopped.
pub fn processes_naming(path: &std::path::Path) -> Vec<String> {
    let needle = path.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(&needle) {
            found.push(format!("{}: {text}", entry.file_name().to_string_lossy()));
        }
    }
    found
}
