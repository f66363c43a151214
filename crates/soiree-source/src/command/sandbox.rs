//! Running a source's command: in bubblewrap with `/` read-only and only its scratch folder
//! writable (and no network unless it asks for one), or, without a usable bubblewrap, directly
//! with a warning.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The command's environment: nothing of the caller's but `PATH` (the tools are found there),
/// `HOME` in the scratch folder, then the source's own variables.
pub(crate) struct Setup<'a> {
    pub argv: &'a [String],
    pub env: &'a [(String, String)],
    /// Writable: the copy of the input and the home folder, both inside the scratch folder.
    pub writable: &'a [&'a Path],
    pub workdir: &'a Path,
    pub network: bool,
    pub log: std::fs::File,
}

/// Whether bubblewrap can make the namespaces the command runs in, asked once.
fn bwrap_works() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        Command::new("bwrap")
            .args(BASE)
            .arg("--unshare-net")
            .args(FILESYSTEM)
            .arg("true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// `/` read-only, a fresh `/dev`, `/proc` of the command's own pid namespace, a private `/tmp`.
const FILESYSTEM: &[&str] = &[
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--tmpfs",
    "/tmp",
];

const BASE: &[&str] = &[
    "--unshare-user-try",
    "--unshare-ipc",
    "--unshare-pid",
    "--unshare-uts",
    "--die-with-parent",
];

/// The process to run, and whether it is confined.
pub(crate) fn command(setup: Setup<'_>) -> std::io::Result<(Command, bool)> {
    let err = setup.log.try_clone()?;
    let confined = bwrap_works();
    let mut cmd = if confined {
        let mut cmd = Command::new("bwrap");
        cmd.args(BASE);
        if !setup.network {
            cmd.arg("--unshare-net");
        }
        cmd.args(FILESYSTEM);
        for dir in setup.writable {
            cmd.arg("--bind").arg(dir).arg(dir);
        }
        cmd.arg("--chdir").arg(setup.workdir).arg("--clearenv");
        for (k, v) in setup.env {
            cmd.args(["--setenv", k, v]);
        }
        cmd.arg("--").args(setup.argv);
        cmd
    } else {
        let mut cmd = Command::new(&setup.argv[0]);
        cmd.args(&setup.argv[1..]).current_dir(setup.workdir).env_clear();
        cmd.envs(setup.env.iter().map(|(k, v)| (k, v)));
        cmd
    };
    cmd.stdin(Stdio::null()).stdout(setup.log).stderr(err);
    Ok((cmd, confined))
}
