//! Wall time, CPU time and peak RSS of one child process.
//!
//! Each child is reaped with `wait4(pid)`, which returns that child's own `rusage`: its
//! `ru_maxrss` is the peak of that process alone (with all its threads), so it needs no helper
//! process and no `/usr/bin/time`. `getrusage(RUSAGE_CHILDREN)` would not do: its `ru_maxrss`
//! is the largest of all children waited for so far, so a smaller later command reads as the
//! earlier, larger one.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What one command cost.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub wall: Duration,
    /// User plus system time.
    pub cpu: Duration,
    /// Peak resident set size in KiB (`ru_maxrss` on Linux).
    pub max_rss_kib: u64,
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// Reaps `child` with `wait4`, failing unless it exited with status 0.
fn reap(child: Child, what: &str) -> Result<Usage, String> {
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals; `pid` is our own unreaped child.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4 {what}: {err}"));
        }
    }
    // `child` was reaped above; dropping it neither waits nor kills.
    drop(child);
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        return Err(format!("{what} failed (wait status {status:#x})"));
    }
    Ok(Usage {
        wall: Duration::ZERO,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
    })
}

/// Runs `cmd` to completion with its stdout discarded and its stderr in `log`, which is shown
/// if it fails.
pub fn command(cmd: &mut Command, what: &str, log: &Path) -> Result<Usage, String> {
    let stderr = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let start = Instant::now();
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr))
        .spawn()
        .map_err(|e| format!("{what}: {e}"))?;
    let usage = reap(child, what).map_err(|e| {
        let said = std::fs::read_to_string(log).unwrap_or_default();
        format!("{e}\n{}", said.trim_end())
    })?;
    Ok(Usage {
        wall: start.elapsed(),
        ..usage
    })
}

/// Runs `tar c -C tree . | xz -<preset> -T<threads>` into `out`. Returns the usage of xz with
/// the wall time of the whole pipeline, and tar's usage.
pub fn tar_xz(tree: &Path, out: &Path, preset: u32, threads: usize) -> Result<(Usage, Usage), String> {
    let sink = File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let start = Instant::now();
    let mut tar = Command::new("tar")
        .arg("c")
        .arg("-C")
        .arg(tree)
        .arg(".")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("tar: {e}"))?;
    let pipe = tar.stdout.take().ok_or("tar has no stdout pipe")?;
    let xz = Command::new("xz")
        .arg(format!("-{preset}"))
        .arg(format!("-T{threads}"))
        .stdin(Stdio::from(pipe))
        .stdout(Stdio::from(sink))
        .spawn();
    let xz = match xz {
        Ok(xz) => xz,
        Err(e) => {
            let _ = tar.kill();
            let _ = reap(tar, "tar");
            return Err(format!("xz: {e}"));
        }
    };
    // Reap both before reporting either failure, so no child is left behind.
    let tar_usage = reap(tar, "tar");
    let xz_usage = reap(xz, "xz");
    let (tar_usage, xz_usage) = (tar_usage?, xz_usage?);
    Ok((
        Usage {
            wall: start.elapsed(),
            ..xz_usage
        },
        tar_usage,
    ))
}

/// Runs `xz -dc FILE | sha512sum`: the baseline for `verify`, which decompresses and hashes the
/// archive. Returns the wall time of the pipeline with the CPU time of both and xz's peak RSS.
pub fn xz_dc_sha512(file: &Path) -> Result<Usage, String> {
    let start = Instant::now();
    let mut xz = Command::new("xz")
        .arg("-dc")
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("xz: {e}"))?;
    let pipe = xz.stdout.take().ok_or("xz has no stdout pipe")?;
    let sha = Command::new("sha512sum")
        .stdin(Stdio::from(pipe))
        .stdout(Stdio::null())
        .spawn();
    let sha = match sha {
        Ok(sha) => sha,
        Err(e) => {
            let _ = xz.kill();
            let _ = reap(xz, "xz -dc");
            return Err(format!("sha512sum: {e}"));
        }
    };
    let xz_usage = reap(xz, "xz -dc");
    let sha_usage = reap(sha, "sha512sum");
    let (xz_usage, sha_usage) = (xz_usage?, sha_usage?);
    Ok(Usage {
        wall: start.elapsed(),
        cpu: xz_usage.cpu + sha_usage.cpu,
        max_rss_kib: xz_usage.max_rss_kib,
    })
}
