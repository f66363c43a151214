//! The bubblewrap command line that makes a grain: the package read-only as `/`, a persistent
//! `/var`, a 16 MiB tmpfs `/tmp` (Sandstorm's size), Sandstorm's device nodes, no `/proc` but
//! `/proc/cpuinfo`, every namespace unshared (the network one has only loopback), uid and gid
//! 1000, and exactly the grain's environment.

use std::ffi::OsString;
use std::path::Path;

use crate::grain::GrainCommand;

/// Where the relay directory appears inside the grain.
pub const RELAY_MOUNT: &str = "/tmp/.soiree-run";

/// Sandstorm mounts these device nodes and nothing else (`supervisor.c++`).
const DEVICES: [&str; 4] = ["/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"];

/// Arguments for `bwrap`, up to and including the grain's command. `info_fd` receives bwrap's
/// JSON (the supervisor's host pid).
/// With `keep_bridge` the grain runs the manifest's whole command, Sandstorm's bridge first.
pub fn args(
    root: &Path,
    var: &Path,
    relay: &Path,
    grain: &GrainCommand,
    info_fd: i32,
    keep_bridge: bool,
) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |items: &[&dyn AsRef<std::ffi::OsStr>]| {
        a.extend(items.iter().map(|i| i.as_ref().to_os_string()));
    };
    // --as-pid-1: the supervisor is the grain's first process, so a SIGTERM sent to it (by pid,
    // from --info-fd) reaches it; bwrap's own pid 1 would not pass it on.
    push(&[&"--unshare-all", &"--die-with-parent", &"--as-pid-1"]);
    // A grain's processes are uid and gid 1000 in their own user namespace, as Sandstorm's
    // supervisor maps them; never root, even when soiree-pack runs as root (nginx, for one,
    // switches users when it sees uid 0).
    push(&[&"--unshare-user", &"--uid", &"1000", &"--gid", &"1000"]);
    push(&[&"--ro-bind", &root, &"/"]);
    push(&[&"--bind", &var, &"/var"]);
    push(&[&"--size", &(16u32 << 20).to_string(), &"--tmpfs", &"/tmp"]);
    push(&[&"--bind", &relay, &RELAY_MOUNT]);
    push(&[&"--tmpfs", &"/dev"]);
    for d in DEVICES {
        push(&[&"--dev-bind", &d, &d]);
    }
    push(&[&"--tmpfs", &"/dev/shm"]);
    if root.join("proc/cpuinfo").is_file() && Path::new("/proc/cpuinfo").is_file() {
        push(&[&"--ro-bind", &"/proc/cpuinfo", &"/proc/cpuinfo"]);
    }
    push(&[&"--chdir", &"/", &"--clearenv"]);
    for (k, v) in &grain.env {
        push(&[&"--setenv", k, v]);
    }
    push(&[&"--setenv", &soiree_grain::relay::RELAY_ENV, &RELAY_MOUNT]);
    push(&[&"--info-fd", &info_fd.to_string(), &"--"]);
    let argv = if keep_bridge {
        &grain.with_bridge
    } else {
        &grain.argv
    };
    a.extend(argv.iter().map(OsString::from));
    a
}

/// The grain's open-file limit: Sandstorm sets 1024 soft, 4096 hard (lower if the host's is).
pub fn limit_open_files() -> std::io::Result<()> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer; called between fork and exec, both are
    // async-signal-safe.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        lim.rlim_max = lim.rlim_max.min(4096);
        lim.rlim_cur = lim.rlim_max.min(1024);
        if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
