//! `soiree-pack enter`: a command (a shell) inside a running grain — the same namespaces (mount,
//! network, pid, ipc, uts, cgroup, user), the package as `/`, uid and gid 1000 — by `nsenter`
//! into the grain's first process, whose host pid `run` and `up` record beside the grain's `/var`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

/// What `run` records while a grain runs (`grain.json` in its run folder): how to find it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record {
    /// The host pid of the grain's first process (the supervisor).
    pub pid: i32,
    /// The package's files on the host, for its manifest's environment.
    pub root: PathBuf,
}

pub const RECORD: &str = "grain.json";

/// `DIR/grain.json` while a grain runs, removed when dropped (the grain is gone then too).
#[derive(Debug)]
pub struct RecordFile(PathBuf);

impl RecordFile {
    /// Records the grain whose first process is `pid` and whose files are `root`, in `dir`;
    /// written beside and renamed, so `enter` never reads half a record.
    pub fn write(dir: &Path, pid: i32, root: &Path) -> std::io::Result<RecordFile> {
        let path = dir.join(RECORD);
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let json = serde_json::to_vec(&Record { pid, root }).map_err(std::io::Error::other)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp, &json)?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(RecordFile(path))
    }
}

impl Drop for RecordFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Whether `pid` is still a running grain's first process (not a pid since reused by another
/// program): its command line names `soiree-grain` (`run`) or Sandstorm's bridge (`up`).
pub fn is_grain(pid: i32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
        c.split(|b| *b == 0).next().is_some_and(|argv0| {
            argv0.ends_with(b"soiree-grain") || argv0.ends_with(b"sandstorm-http-bridge")
        })
    })
}

/// `nsenter` into every namespace of the grain at `pid`, as its user, running `argv` with the
/// grain's environment (`env`, from its manifest; HOME is `/var`, TERM is passed on).
pub fn command(nsenter: &Path, pid: i32, env: &[(String, String)], argv: &[String]) -> Command {
    let mut cmd = Command::new(nsenter);
    cmd.arg(format!("--target={pid}"))
        .args([
            "--user", "--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup", "--root", "--wd=/",
        ])
        .args(["--setuid=1000", "--setgid=1000", "--"])
        .args(argv)
        .env_clear();
    let term = std::env::var("TERM").ok();
    cmd.env("HOME", "/var")
        .env("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(term) = term {
        cmd.env("TERM", term);
    }
    cmd
}
