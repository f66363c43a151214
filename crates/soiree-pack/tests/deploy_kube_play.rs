//! The chart's default rendering run by `podman kube play` with the demo party's images from
//! `build --target oci`: Uro's Pod (a container per service, `soiree-grain --only`, sharing
//! loopback and `/var`) answers HTTP through nginx, every container's probe passes, and the
//! game server's container reports its ENet server ready.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ok(out: Output, what: &str) -> String {
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{said}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// podman with its own configuration, storage, lock and network state under a temp folder.
struct Podman {
    dir: tempfile::TempDir,
}

impl Podman {
    fn new() -> Podman {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        std::fs::write(
            dir.path().join("containers.conf"),
            "[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = \"cgroupfs\"\n\
             runtime = \"runc\"\nevents_logger = \"file\"\n",
        )
        .unwrap();
        Podman { dir }
    }

    fn cmd(&self) -> Command {
        let d = self.dir.path();
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", d.join("containers.conf"))
            .arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("run"))
            .arg("--tmpdir")
            .arg(d.join("tmp"))
            .arg("--network-config-dir")
            .arg(d.join("net"))
            .args(["--storage-driver", "vfs"]);
        c
    }

    /// Copies the layout `build --target oci` wrote into this podman's storage, named as the
    /// chart names it (skopeo: `podman pull oci:` names an image after its folder's path).
    fn load(&self, layout: &Path, name: &str) {
        let storage = format!(
            "containers-storage:[vfs@{}+{}]{name}",
            self.dir.path().join("root").display(),
            self.dir.path().join("run").display()
        );
        ok(
            Command::new("skopeo")
                .args(["copy", "-q"])
                .arg(format!("oci:{}", layout.display()))
                .arg(storage)
                .output()
                .unwrap(),
            "skopeo copy oci: containers-storage:",
        );
    }

    fn ready(&self, container: &str, service: &str) -> bool {
        self.cmd()
            .args([
                "exec",
                container,
                "/opt/soiree/bin/soiree-grain",
                "--ready",
                service,
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn logs(&self, container: &str) -> String {
        let o = self.cmd().args(["logs", container]).output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.cmd().args(["pod", "rm", "-af", "-t", "2"]).output();
        let _ = self.cmd().args(["system", "reset", "-f"]).output();
    }
}

fn until(secs: u64, what: &str, mut ok: impl FnMut() -> bool, log: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "{what} after {secs} s:\n{}", log());
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn the_default_rendering_runs_under_podman_kube_play() {
    let t = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let dir = t.path();
    std::fs::create_dir(dir.join("recipes")).unwrap();
    for e in std::fs::read_dir(repo().join("recipes")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("recipes").join(e.file_name())).unwrap();
    }
    let root = repo().display().to_string();
    let toml = std::fs::read_to_string(repo().join("party.toml"))
        .unwrap()
        .replace("path = \"fixtures/", &format!("path = \"{root}/fixtures/"))
        .replace("icon = \"fixtures/", &format!("icon = \"{root}/fixtures/"));
    std::fs::write(dir.join("party.toml"), toml).unwrap();
    let soiree = |args: &[&str]| {
        ok(
            Command::new(env!("CARGO_BIN_EXE_soiree-pack"))
                .args(args)
                .args(["--profile", "demo", "--party"])
                .arg(dir.join("party.toml"))
                .output()
                .unwrap(),
            &format!("soiree-pack {}", args.join(" ")),
        )
    };
    soiree(&["build", "--target", "oci", "uro", "server"]);
    soiree(&["build", "--target", "helm"]);
    let podman = Podman::new();
    for p in ["uro", "server"] {
        podman.load(
            &dir.join("dist/oci").join(p),
            &format!("localhost/soiree/soiree-{p}:1"),
        );
    }
    // The default values, rendered, linted and validated by Helm's own code.
    let values = dir.join("values.json");
    std::fs::write(&values, "{}").unwrap();
    ok(
        Command::new("python3")
            .arg(repo().join("fixtures/deploy/check_chart.py"))
            .arg(dir.join("dist/helm/soiree"))
            .arg(&values)
            .arg(dir)
            .output()
            .unwrap(),
        "check_chart.py",
    );
    let rendered: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifests.json")).unwrap()).unwrap();
    let mut docs = Vec::new();
    for m in rendered["manifests"].as_array().unwrap() {
        let mut doc = m["doc"].clone();
        let name = doc["metadata"]["name"].as_str().unwrap_or("").to_string();
        let wanted = ["party-uro", "party-uro-var", "party-server", "party-server-var"];
        if !matches!(doc["kind"].as_str(), Some("Deployment" | "PersistentVolumeClaim"))
            || !wanted.contains(&name.as_str())
        {
            continue;
        }
        // podman publishes every containerPort on all the host's addresses; the test reaches
        // each Pod through its network namespace instead, so nothing leaves loopback.
        if let Some(cs) = doc
            .pointer_mut("/spec/template/spec/containers")
            .and_then(Value::as_array_mut)
        {
            for c in cs {
                c.as_object_mut().unwrap().remove("ports");
            }
        }
        docs.push(doc.to_string());
    }
    assert_eq!(docs.len(), 4, "{rendered}");
    let kube = dir.join("kube.yaml");
    std::fs::write(&kube, docs.join("\n---\n")).unwrap();
    ok(
        podman
            .cmd()
            .args(["kube", "play", "--network", "none"])
            .arg(&kube)
            .output()
            .unwrap(),
        "podman kube play",
    );
    for (pod, services) in [
        ("uro", &["nginx", "redis", "uro"][..]),
        ("server", &["godot", "nginx"][..]),
    ] {
        for s in services {
            let c = format!("party-{pod}-pod-0-{s}");
            until(
                180,
                &format!("{c} not ready"),
                || podman.ready(&c, s),
                || podman.logs(&c),
            );
        }
    }
    assert!(podman
        .logs("party-server-pod-0-godot")
        .contains("server: listening on UDP 7777"));
    // Uro answers through nginx on the Pod's loopback, as in a grain.
    let pid = ok(
        podman
            .cmd()
            .args(["inspect", "--format", "{{.State.Pid}}", "party-uro-pod-0-nginx"])
            .output()
            .unwrap(),
        "podman inspect",
    );
    let health = ok(
        Command::new("nsenter")
            .args(["-t", pid.trim(), "-n", "python3", "-c"])
            .arg("import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health').status)")
            .output()
            .unwrap(),
        "GET /api/v1/health in the Pod",
    );
    assert_eq!(health.trim(), "200");
}
