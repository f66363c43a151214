//! `build --target oci`: the demo party's images (real nginx, Redis, Godot 3 server, the Elixir
//! release) run in podman — Uro answers HTTP through nginx, the game server answers an ENet
//! client on UDP — `skopeo inspect` and `umoci unpack` read every image, two checkouts give the
//! same digests, images share their base layer, and a one-file change changes one layer; a
//! small party's image config exposes its UDP ports and has no `SANDSTORM` variable.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        // A build of the fixture left in the repository is not part of a checkout.
        if name == "_build" || name == "deps" || name == ".import" {
            continue;
        }
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(e.path()).unwrap(), to.join(&name)).unwrap();
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// A checkout: what a clone of the repository holds that a build reads.
fn checkout(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["party.toml", "party.lock"] {
        std::fs::copy(repo().join(f), to.join(f)).unwrap();
    }
    copy_dir(&repo().join("recipes"), &to.join("recipes"));
    copy_dir(&repo().join("fixtures"), &to.join("fixtures"));
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The images `build --target oci --json` reports: name → its JSON object.
fn build_images(home: &Path, party_dir: &Path, extra: &[&str]) -> BTreeMap<String, serde_json::Value> {
    let out = common::soiree(party_dir, home)
        .args(["build", "--target", "oci", "--json", "--profile", "demo"])
        .args(extra)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    let text = ok(out, "build --target oci");
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["reason"] == "image")
        .map(|v| (v["name"].as_str().unwrap().to_string(), v))
        .collect()
}

fn layer_digests(image: &serde_json::Value) -> BTreeMap<String, String> {
    image["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap().to_string(),
                l["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// podman with its own configuration and storage under a temp folder, as these machines need
/// it (runc, cgroupfs, no default ulimits), publishing ports on loopback only.
struct Podman {
    dir: tempfile::TempDir,
    containers: Vec<String>,
}

impl Podman {
    fn new() -> Podman {
        soiree_test_support::program("/usr/bin/podman", "podman");
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        std::fs::write(
            dir.path().join("containers.conf"),
            "[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = \"cgroupfs\"\n\
             runtime = \"runc\"\nevents_logger = \"file\"\n",
        )
        .unwrap();
        Podman {
            dir,
            containers: Vec::new(),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", self.dir.path().join("containers.conf"))
            .arg("--root")
            .arg(self.dir.path().join("root"))
            .arg("--runroot")
            .arg(self.dir.path().join("run"))
            .args([
                "--runtime",
                "runc",
                "--cgroup-manager",
                "cgroupfs",
                "--storage-driver",
                "vfs",
            ]);
        c
    }

    /// Copies an image layout into this podman's storage under the name in its index; the name.
    fn load(&self, layout: &Path, name: &str) -> String {
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
        ok(out, "skopeo copy oci: containers-storage:");
        name.to_string()
    }

    /// Starts a container of `image` with `publish` (`-p` values); its name.
    fn run(&mut self, name: &str, image: &str, publish: &[String]) -> String {
        let mut c = self.cmd();
        c.args([
            "run",
            "-d",
            "--pull",
            "never",
            "--name",
            name,
            "--network",
            "slirp4netns",
        ]);
        for p in publish {
            c.args(["-p", p]);
        }
        ok(c.arg(image).output().unwrap(), "podman run");
        self.containers.push(name.to_string());
        name.to_string()
    }

    fn logs(&self, name: &str) -> String {
        let out = self.cmd().args(["logs", name]).output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        for name in &self.containers {
            let _ = self.cmd().args(["rm", "-f", "-t", "2", name]).output();
        }
        // The vfs storage holds files owned by the image's users: podman removes them itself.
        let _ = self.cmd().args(["system", "reset", "-f"]).output();
    }
}

fn free_tcp() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn free_udp() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// One HTTP/1.0 GET: the status code and body, or `None` while nothing answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((code, body))
}

fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Option<T>,
    logs: impl Fn() -> String,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "no {what} after {timeout:?}:\n{}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn demo_images_run_in_podman_read_with_skopeo_and_umoci_and_rebuild_to_the_same_digests() {
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (a, b) = (home.path().join("a"), home.path().join("b"));
    checkout(&a);
    checkout(&b);
    let first = build_images(home.path(), &a, &[]);
    let second = build_images(home.path(), &b, &[]);
    assert_eq!(first.keys().collect::<Vec<_>>(), ["client", "server", "uro"]);
    for (name, image) in &first {
        assert_eq!(
            image["digest"], second[name]["digest"],
            "{name}: two checkouts, one image:\n{image}\n{}",
            second[name]
        );
        assert_eq!(
            image["reference"],
            format!("localhost/soiree/soiree-{name}:1"),
            "the name compose and Helm refer to"
        );
    }
    // The supervisor and what it needs are one layer every image shares.
    let bases: Vec<String> = first.values().map(|i| layer_digests(i)["base"].clone()).collect();
    assert!(bases.iter().all(|d| *d == bases[0]), "{bases:?}");
    // nginx's layer is the same in the two images that run it from the same recipe.
    assert_eq!(
        layer_digests(&first["uro"])["source nginx"],
        layer_digests(&first["server"])["source nginx"]
    );

    // Every image is read by skopeo and unpacked by umoci.
    soiree_test_support::program("/usr/bin/skopeo", "skopeo");
    soiree_test_support::program("/usr/bin/umoci", "umoci");
    for (name, image) in &first {
        let layout = a.join("dist/oci").join(name);
        let out = Command::new("skopeo")
            .args(["inspect", "--raw"])
            .arg(format!("oci:{}", layout.display()))
            .output()
            .unwrap();
        let raw = ok(out, "skopeo inspect --raw");
        let manifest: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(
            manifest["layers"].as_array().unwrap().len(),
            image["layers"].as_array().unwrap().len()
        );
        let out = Command::new("skopeo")
            .args(["inspect", "--config"])
            .arg(format!("oci:{}", layout.display()))
            .output()
            .unwrap();
        let config: serde_json::Value = serde_json::from_str(&ok(out, "skopeo inspect --config")).unwrap();
        assert_eq!(config["config"]["User"], "1000:1000");
        assert_eq!(
            config["config"]["Entrypoint"],
            serde_json::json!(["/opt/soiree/bin/soiree-grain", "/opt/soiree/services.json"])
        );
        assert!(config["config"]["Volumes"].get("/var").is_some(), "{config}");
        assert!(
            config["config"]["ExposedPorts"].get("8000/tcp").is_some(),
            "{config}"
        );
        assert_eq!(
            config["config"]["ExposedPorts"].get("7777/udp").is_some(),
            name == "server",
            "the game's UDP port: {config}"
        );
        assert!(
            !config["config"]["Env"].to_string().contains("SANDSTORM"),
            "{config}"
        );
        let unpacked = home.path().join(format!("unpacked-{name}"));
        let out = Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:localhost/soiree/soiree-{name}:1", layout.display()))
            .arg(&unpacked)
            .output()
            .unwrap();
        ok(out, "umoci unpack");
        let rootfs = unpacked.join("rootfs");
        assert!(rootfs.join("opt/soiree/bin/soiree-grain").is_file());
        assert!(rootfs.join("opt/soiree/services.json").is_file());
        assert!(
            !rootfs.join("sandstorm-http-bridge").exists(),
            "a container runs without Sandstorm's bridge"
        );
    }
    assert!(first["uro"]["config"].is_string());
    assert!(
        first["uro"]["layers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "source uro-release"),
        "{}",
        first["uro"]
    );

    // Uro behind nginx, with Redis, answers on the published port.
    let mut podman = Podman::new();
    let uro = podman.load(&a.join("dist/oci/uro"), "localhost/soiree/soiree-uro:1");
    let http = free_tcp();
    let name = podman.run("soiree-uro", &uro, &[format!("127.0.0.1:{http}:8000")]);
    let (code, body) = wait_for(
        "Uro's health through nginx",
        Duration::from_secs(120),
        || get(http, "/api/v1/health").filter(|(c, _)| *c == 200),
        || podman.logs(&name),
    );
    assert_eq!((code, body.as_str()), (200, "schema 1 runs 1\n"));
    // Uro may answer before the supervisor's probe has seen it; the supervisor then says so.
    wait_for(
        "the supervisor saying every service is up",
        Duration::from_secs(30),
        || {
            podman
                .logs(&name)
                .contains("3 services of `uro` are up")
                .then_some(())
        },
        || podman.logs(&name),
    );

    // The game server answers an ENet client on UDP.
    let server = podman.load(&a.join("dist/oci/server"), "localhost/soiree/soiree-server:1");
    let udp = free_udp();
    let name = podman.run("soiree-server", &server, &[format!("127.0.0.1:{udp}:7777/udp")]);
    wait_for(
        "the game server listening",
        Duration::from_secs(60),
        || {
            podman
                .logs(&name)
                .contains("server: listening on UDP 7777")
                .then_some(())
        },
        || podman.logs(&name),
    );
    let client = Command::new("godot3-server")
        .arg("--path")
        .arg(repo().join("fixtures/godot-enet"))
        .args(["--client", "--host", "127.0.0.1", "--port", &udp.to_string()])
        .env("HOME", home.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&client.stdout);
    assert!(
        client.status.success() && said.contains("client: pong soiree hello"),
        "client: {said}\n{}\nserver:\n{}",
        String::from_utf8_lossy(&client.stderr),
        podman.logs(&name)
    );

    // One file of one source changed: that source's layer changes, no other.
    let page = b.join("fixtures/inputs/server-site/index.html");
    let mut text = std::fs::read_to_string(&page).unwrap();
    text.push_str("<!-- changed -->\n");
    std::fs::write(&page, text).unwrap();
    let changed = build_images(home.path(), &b, &["server"]);
    let (before, after) = (layer_digests(&first["server"]), layer_digests(&changed["server"]));
    let differ: Vec<&String> = before.keys().filter(|k| before[*k] != after[*k]).collect();
    assert_eq!(differ, ["source server-site"], "{before:?}\n{after:?}");
}

/// A blob of the layout at `dir` by its digest, as JSON.
fn blob(dir: &Path, digest: &str) -> serde_json::Value {
    let hex = digest.strip_prefix("sha256:").unwrap();
    serde_json::from_slice(&std::fs::read(dir.join("blobs/sha256").join(hex)).unwrap()).unwrap()
}

#[test]
fn image_config_exposes_udp_ports_and_says_nothing_of_sandstorm() {
    let party = common::Party::new("", &["game"]);
    party.recipe(
        "game",
        r##"
[bridge]
port = 8000

# What the manifest would run on Sandstorm; a container leaves it out.
[[files]]
to = "/sandstorm-http-bridge"
content = "#!/bin/sh\n"
executable = true

[env]
HOME = "/var"
SANDSTORM = "1"

[[files]]
to = "/opt/game/run"
content = "#!/bin/sh\n"
executable = true

[services.game]
command = ["/opt/game/run"]
ports = [9000]
udp-ports = [7777, 7000]
ready = { log = "listening" }

[services.voice]
command = ["/opt/game/run"]
udp-ports = [8000]
ready = { log = "listening" }
"##,
    );
    let out = party.run(&["build", "--target", "oci"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let layout = party.path("dist/oci/app");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = blob(&layout, index["manifests"][0]["digest"].as_str().unwrap());
    let config = blob(&layout, manifest["config"]["digest"].as_str().unwrap());
    let exposed: Vec<&String> = config["config"]["ExposedPorts"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(
        exposed,
        ["7000/udp", "7777/udp", "8000/tcp", "8000/udp", "9000/tcp"],
        "the bridge's port, the services' TCP and UDP ports"
    );
    let env: Vec<&str> = config["config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"HOME=/var"), "{env:?}");
    assert!(
        !env.iter().any(|v| v.starts_with("SANDSTORM=")),
        "no Sandstorm in a container: {env:?}"
    );
}
