//! The echo package (the real bridge in front of the echo app) staged for a test, parties of its
//! grains, and what the shell's index says of them.

use std::time::Duration;

use super::{http, Answer};

/// The echo package (the real bridge in front of this test binary) staged once for a test.
pub struct EchoPackage {
    pub work: tempfile::TempDir,
    pub root: std::path::PathBuf,
}

impl EchoPackage {
    /// `None` (the test is skipped, and says so) without Sandstorm's bridge.
    pub fn stage() -> Option<EchoPackage> {
        let bridge = super::bundle()?;
        super::bwrap_is_installed();
        let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let exe = std::env::current_exe().unwrap();
        let root = super::stage(
            work.path(),
            &bridge,
            &exe,
            &[
                "/opt/app/app",
                "--exact",
                "echo_server",
                "--nocapture",
                "--test-threads=1",
            ],
            &[("HOME", "/var"), ("SOIREE_UP_ECHO", "1")],
        );
        Some(EchoPackage { work, root })
    }

    /// A party of grains of the package, each with its own `/var`, logging to one file.
    pub fn options(&self, names: &[&str], idle: Option<Duration>) -> soiree_up::Options {
        let grains = names
            .iter()
            .map(|name| soiree_up::GrainSpec {
                name: name.to_string(),
                root: self.root.clone(),
                var: self.work.path().join(name),
                log: Some(self.work.path().join("grains.log")),
            })
            .collect();
        soiree_up::Options {
            grains,
            port: 0,
            bwrap: "bwrap".into(),
            idle,
            links: Vec::new(),
        }
    }

    /// What the grains have printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.work.path().join("grains.log")).unwrap_or_default()
    }
}

pub fn lines(a: &Answer) -> Vec<String> {
    a.text().lines().map(str::to_string).collect()
}

pub fn has(a: &Answer, line: &str) -> bool {
    lines(a).iter().any(|l| l == line)
}

/// The shell index's line for a grain (its state and wake locks).
pub fn grain_line(addr: std::net::SocketAddr, grain: &str) -> String {
    let index = http(addr, "localhost", "GET", "/", &[], b"").text();
    index
        .lines()
        .find(|l| l.contains(&format!("/grain/{grain}/")))
        .unwrap_or("")
        .to_string()
}

pub fn wait_for(addr: std::net::SocketAddr, grain: &str, want: &str, within: Duration) -> String {
    let deadline = std::time::Instant::now() + within;
    loop {
        let line = grain_line(addr, grain);
        if line.contains(want) || std::time::Instant::now() > deadline {
            return line;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
