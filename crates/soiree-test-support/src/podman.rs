//! podman with its own configuration, storage, lock and network state under a temp folder, as this machine needs it.

use std::path::Path;
use std::process::{Command, Output};

use crate::programs::{program, succeeded, text};

/// podman kept apart from the host's: storage, run state, temp and network configuration in a
/// temp folder, the vfs driver, and the settings these machines need (runc, cgroupfs, no
/// default ulimits, events to a file). Everything it ran is removed when dropped.
pub struct Podman {
    dir: tempfile::TempDir,
}

impl Podman {
    /// Its folder made in `parent` (a test's `CARGO_TARGET_TMPDIR`: image storage is large for
    /// a tmpfs). Panics, saying what to install, when podman or skopeo (which loads images) is
    /// missing.
    pub fn new(parent: &Path) -> Podman {
        program("/usr/bin/podman", "podman");
        program("/usr/bin/skopeo", "skopeo");
        let dir = tempfile::tempdir_in(parent).unwrap();
        std::fs::write(
            dir.path().join("containers.conf"),
            "[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = \"cgroupfs\"\n\
             runtime = \"runc\"\nevents_logger = \"file\"\n",
        )
        .unwrap();
        Podman { dir }
    }

    /// podman's global arguments that keep everything under the temp folder.
    pub fn args(&self) -> Vec<String> {
        let d = self.dir.path().display();
        vec![
            format!("--root={d}/root"),
            format!("--runroot={d}/run"),
            format!("--tmpdir={d}/tmp"),
            format!("--network-config-dir={d}/net"),
            "--storage-driver=vfs".into(),
            "--runtime=runc".into(),
            "--cgroup-manager=cgroupfs".into(),
            "--events-backend=file".into(),
        ]
    }

    /// The path of `containers.conf`, for programs that run podman themselves (podman-compose).
    pub fn conf(&self) -> std::path::PathBuf {
        self.dir.path().join("containers.conf")
    }

    /// `podman` with this podman's configuration and global arguments.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", self.conf()).args(self.args());
        c
    }

    /// Copies an image layout (as `build --target oci` writes it) into this podman's storage
    /// under `name` (skopeo: `podman pull oci:` names an image after its folder's path).
    pub fn load(&self, layout: &Path, name: &str) {
        let storage = format!(
            "containers-storage:[vfs@{}+{}]{name}",
            self.dir.path().join("root").display(),
            self.dir.path().join("run").display()
        );
        let out = Command::new("skopeo")
            .args(["copy", "-q"])
            .arg(format!("oci:{}", layout.display()))
            .arg(storage)
            .output()
            .unwrap();
        succeeded(out, "skopeo copy oci: containers-storage:");
    }

    /// A container's output so far, stdout then stderr.
    pub fn logs(&self, container: &str) -> String {
        said(&self.cmd().args(["logs", container]).output().unwrap())
    }
}

fn said(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

impl Drop for Podman {
    fn drop(&mut self) {
        // Every container and Pod, then the vfs storage, whose files belong to the images'
        // users: podman removes them itself.
        let _ = self.cmd().args(["rm", "-af", "-t", "2"]).output();
        let _ = self.cmd().args(["pod", "rm", "-af", "-t", "2"]).output();
        let _ = self.cmd().args(["system", "reset", "-f"]).output();
    }
}
