//! `cargo xtask fuzz [TARGET] [--seconds N] [--sanitizer S]`: runs the cargo-fuzz targets in
//! `fuzz/` (its own workspace, so CI never builds or runs it).
//!
//! How it runs on the stable toolchain: cargo-fuzz (installed with `cargo install cargo-fuzz`
//! when `cargo fuzz` is missing) instruments with `-Cpasses=sancov-module` and `-Cllvm-args`,
//! which stable rustc accepts, so `--sanitizer none` needs nothing else. AddressSanitizer needs
//! `-Zsanitizer=address`, a nightly flag: stable rustc takes it with `RUSTC_BOOTSTRAP=1`, which
//! this task sets (tried on rustc 1.95; the ASan runtime ships with the stable standard library).
//! ASan is the default because the capnp reader and the archive mapping use unsafe code.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::fuzz_seeds;

/// Every target in `fuzz/fuzz_targets/`, in the order they run by default.
pub const TARGETS: &[&str] = &["verify", "archive", "keyring", "party"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub targets: Vec<String>,
    pub seconds: u64,
    pub sanitizer: String,
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Installs cargo-fuzz from crates.io if `cargo fuzz` is not there.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if present {
        return Ok(());
    }
    eprintln!("xtask: `cargo fuzz` is missing; running `cargo install cargo-fuzz`");
    let status = cargo()
        .args(["install", "cargo-fuzz"])
        .status()
        .map_err(|e| format!("cargo install cargo-fuzz: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo install cargo-fuzz failed ({status})"))
    }
}

/// What one run printed that matters: libFuzzer's final `Done N runs in S second(s)` line,
/// and the file a crashing input was saved to.
#[derive(Debug, Default)]
pub struct RunSummary {
    pub done: Option<String>,
    pub artifact: Option<String>,
}

fn run_target(root: &Path, target: &str, opts: &Options) -> Result<RunSummary, String> {
    let mut child = cargo()
        .current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["fuzz", "run", target, "--sanitizer", &opts.sanitizer, "--"])
        .arg(format!("-max_total_time={}", opts.seconds))
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo fuzz run {target}: {e}"))?;
    let mut summary = RunSummary::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).split(b'\n') {
            let line = String::from_utf8_lossy(&line.map_err(|e| e.to_string())?).into_owned();
            eprintln!("{line}");
            if line.starts_with("Done ") {
                summary.done = Some(line.clone());
            }
            if let Some(rest) = line.split("Test unit written to ").nth(1) {
                summary.artifact = Some(rest.trim().to_string());
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(summary)
    } else {
        Err(format!(
            "{target}: cargo fuzz exited with {status}; crashing input: {}",
            summary.artifact.as_deref().unwrap_or("(none saved)")
        ))
    }
}

/// Writes the seed corpus when it is missing, then runs each target for `opts.seconds`.
pub fn run(root: &Path, opts: &Options) -> Result<(), String> {
    ensure_cargo_fuzz()?;
    let missing = TARGETS.iter().any(|t| {
        std::fs::read_dir(fuzz_seeds::corpus_dir(root, t))
            .map(|mut d| d.next().is_none())
            .unwrap_or(true)
    });
    if missing {
        let n = fuzz_seeds::write(root)?;
        eprintln!("xtask: wrote {n} seed inputs to fuzz/corpus/");
    }
    let mut failures = Vec::new();
    let mut done = Vec::new();
    for target in &opts.targets {
        match run_target(root, target, opts) {
            Ok(summary) => done.push(format!(
                "{target}: {}",
                summary.done.as_deref().unwrap_or("finished")
            )),
            Err(e) => failures.push(e),
        }
    }
    for line in &done {
        println!("fuzz {line}");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
