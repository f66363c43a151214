//! Readiness markers: `/var/.soiree/ready/<service>` exists from when the service passed its
//! readiness check (and its first-run steps) until its supervisor stops it, so that a probe
//! from outside the supervisor (a container healthcheck, a Kubernetes exec probe:
//! `soiree-grain --ready NAME`) sees what it saw.

use std::path::{Path, PathBuf};

/// The marker directory, relative to `/var`.
pub const READY_DIR: &str = ".soiree/ready";

pub fn marker(var_dir: &Path, service: &str) -> PathBuf {
    var_dir.join(READY_DIR).join(service)
}

/// Forgets an earlier supervisor's word: a marker left by a killed container must not pass
/// the probe of the next one before its service is up.
pub fn clear(var_dir: &Path, service: &str) -> std::io::Result<()> {
    match std::fs::remove_file(marker(var_dir, service)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

pub fn mark(var_dir: &Path, service: &str) -> std::io::Result<()> {
    crate::store::write_whole(&marker(var_dir, service), b"ready\n", 0o666)
}

/// The services of `names` that are not ready.
pub fn not_ready<'a>(var_dir: &Path, names: &'a [String]) -> Vec<&'a str> {
    names
        .iter()
        .filter(|n| !marker(var_dir, n).is_file())
        .map(String::as_str)
        .collect()
}

/// Waits until every service of `names` is ready (they run in other containers of the Pod and
/// share its `/var`), or `stop` is set: whether they all are.
pub fn wait_for(var_dir: &Path, names: &[String], stop: &std::sync::atomic::AtomicBool) -> bool {
    let mut said = false;
    loop {
        let waiting = not_ready(var_dir, names);
        if waiting.is_empty() {
            return true;
        }
        if stop.load(std::sync::atomic::Ordering::SeqCst) {
            return false;
        }
        if !said {
            crate::log::say(&format!(
                "waiting for {} (in other containers) to be ready",
                waiting.join(", ")
            ));
            said = true;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}
