//! The compose file of `build --target compose` run by `podman-compose up` (Debian's) with the
//! demo party's images from `build --target oci`: Uro answers its health check through nginx on
//! the port the file publishes on loopback, and the game server answers an ENet client on UDP.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: Output, what: &str) -> String {
    assert!(out.status.success(), "{what} failed:\n{}", said(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// podman with its own configuration, storage and network state under a temp folder, and
/// podman-compose pointed at it.
struct Podman {
    dir: tempfile::TempDir,
    compose: Option<PathBuf>,
}

impl Podman {
    fn new() -> Podman {
        soiree_test_support::program("/usr/bin/podman", "podman");
        soiree_test_support::program("/usr/bin/podman-compose", "podman-compose");
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        std::fs::write(
            dir.path().join("containers.conf"),
            "[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = \"cgroupfs\"\n\
             runtime = \"runc\"\nevents_logger = \"file\"\n",
        )
        .unwrap();
        Podman { dir, compose: None }
    }

    /// podman's global arguments that keep everything under the temp folder.
    fn args(&self) -> Vec<String> {
        let d = self.dir.path().display();
        [
            format!("--root={d}/root"),
            format!("--runroot={d}/run"),
            format!("--tmpdir={d}/tmp"),
            format!("--network-config-dir={d}/net"),
            "--storage-driver=vfs".into(),
            "--runtime=runc".into(),
            "--cgroup-manager=cgroupfs".into(),
            "--events-backend=file".into(),
        ]
        .to_vec()
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", self.dir.path().join("containers.conf"))
            .args(self.args());
        c
    }

    /// `podman-compose -p party -f FILE ARGS…` against this podman.
    fn compose(&self, file: &Path, args: &[&str]) -> Output {
        Command::new("podman-compose")
            .arg(format!("--podman-args={}", self.args().join(" ")))
            .args(["-p", "party", "-f"])
            .arg(file)
            .args(args)
            .env("CONTAINERS_CONF", self.dir.path().join("containers.conf"))
            .output()
            .unwrap()
    }

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

    fn logs(&self, container: &str) -> String {
        said(&self.cmd().args(["logs", container]).output().unwrap())
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        if let Some(file) = self.compose.take() {
            let _ = self.compose(&file, &["down", "-t", "2"]);
        }
        // Whatever `down` left, and the vfs storage (files owned by the images' users).
        let _ = self.cmd().args(["rm", "-af", "-t", "2"]).output();
        let _ = self.cmd().args(["pod", "rm", "-af", "-t", "2"]).output();
        let _ = self.cmd().args(["system", "reset", "-f"]).output();
    }
}

fn free_port(udp: bool) -> u16 {
    let port = if udp {
        std::net::UdpSocket::bind("127.0.0.1:0").and_then(|s| s.local_addr())
    } else {
        std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr())
    };
    port.unwrap().port()
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

fn until(secs: u64, what: &str, mut ok: impl FnMut() -> bool, log: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ok() {
        assert!(Instant::now() < deadline, "{what} after {secs} s:\n{}", log());
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn the_compose_file_runs_under_podman_compose() {
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
            common::soiree(dir, dir)
                .args(args)
                .args(["--profile", "demo"])
                .output()
                .unwrap(),
            &format!("soiree-pack {}", args.join(" ")),
        )
    };
    soiree(&["build", "--target", "oci", "uro", "server"]);
    soiree(&["build", "--target", "compose"]);
    let mut podman = Podman::new();
    for p in ["uro", "server"] {
        podman.load(
            &dir.join("dist/oci").join(p),
            &format!("localhost/soiree/soiree-{p}:1"),
        );
    }

    // The file as written, but for the host ports: free ones, so that the test runs beside
    // anything else on this machine. Every port is published on loopback only.
    let file = dir.join("dist/compose/compose.yaml");
    let written = std::fs::read_to_string(&file).unwrap();
    let (http, udp) = (free_port(false), free_port(true));
    let mut text = written.clone();
    for (from, to) in [
        ("127.0.0.1:8002:8000", format!("127.0.0.1:{http}:8000")),
        ("127.0.0.1:7777:7777/udp", format!("127.0.0.1:{udp}:7777/udp")),
    ] {
        assert!(text.contains(from), "no `{from}` in:\n{written}");
        text = text.replace(from, &to);
    }
    let run = dir.join("compose.yaml");
    std::fs::write(&run, text).unwrap();

    podman.compose = Some(run.clone());
    // Uro and the server: the client's image is a desktop build, not made here.
    ok(
        podman.compose(&run, &["up", "-d", "uro", "server"]),
        "podman-compose up",
    );

    // Uro behind nginx, with Redis, answers on the published port.
    let mut health = None;
    until(
        180,
        "no health from Uro through nginx",
        || {
            health = get(http, "/api/v1/health").filter(|(c, _)| *c == 200);
            health.is_some()
        },
        || podman.logs("party_uro_1"),
    );
    assert_eq!(health.map(|(_, body)| body).as_deref(), Some("schema 1 runs 1\n"));

    // The game server, started after Uro (it links to it), answers an ENet client on UDP.
    until(
        60,
        "the game server not listening",
        || {
            podman
                .logs("party_server_1")
                .contains("server: listening on UDP 7777")
        },
        || podman.logs("party_server_1"),
    );
    let client = Command::new("godot3-server")
        .arg("--path")
        .arg(repo().join("fixtures/godot-enet"))
        .args(["--client", "--host", "127.0.0.1", "--port", &udp.to_string()])
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        client.status.success() && said(&client).contains("client: pong soiree hello"),
        "client: {}\nserver:\n{}",
        said(&client),
        podman.logs("party_server_1")
    );

    // `down` stops and removes what `up` made, and nothing of the party is left running.
    podman.compose = None;
    ok(podman.compose(&run, &["down", "-t", "2"]), "podman-compose down");
    let left = ok(podman.cmd().args(["ps", "-aq"]).output().unwrap(), "podman ps");
    assert_eq!(left.trim(), "", "containers left after down");
}
