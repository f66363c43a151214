//! Players reach the game in a Server grain through its API endpoint: `soiree-pack up --profile
//! demo` runs the repository's Server package (Godot 3's ENet server, nginx, soiree-relay) behind
//! Sandstorm's real bridge; `soiree-tunnel` carries two real Godot ENet clients' UDP over
//! WebSocket through the emulated API host, kept apart; the relay's wake lock is reported by
//! the emulator while they play and dropped after; a bad token is refused with a clear line.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bundle() -> Option<PathBuf> {
    let dir = std::env::var_os("SOIREE_SANDSTORM_BUNDLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/sandstorm-bundle"));
    if dir.join("bin/sandstorm-http-bridge").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} has no bin/sandstorm-http-bridge (set SOIREE_SANDSTORM_BUNDLE)",
            dir.display()
        );
        None
    }
}

/// A program whose stderr (and stdout) is collected as it runs; killed when dropped.
struct Logged {
    child: Child,
    log: Arc<Mutex<String>>,
    what: String,
}

impl Logged {
    fn spawn(mut cmd: Command, what: &str) -> Logged {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let log = Arc::new(Mutex::new(String::new()));
        for r in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines().map_while(Result::ok) {
                    let mut l = sink.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        Logged {
            child,
            log,
            what: what.to_string(),
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn wait_log(&mut self, want: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let l = self.log();
            if l.contains(want) {
                return l;
            }
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!("{} ended ({st}) before `{want}`:\n{l}", self.what);
            }
            assert!(Instant::now() < deadline, "{}: no `{want}` in:\n{l}", self.what);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the program's own end.
    fn finish(&mut self, within: Duration) -> (i32, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return (st.code().unwrap_or(-1), self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{} did not end:\n{}",
                self.what,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn interrupt(&mut self) -> (i32, String) {
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        self.finish(Duration::from_secs(60))
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // SAFETY: kill(2) on our own child; SIGINT lets `up` stop its grains.
            unsafe {
                libc::kill(self.child.id() as i32, libc::SIGINT);
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The repository's party with the relay's grace period shortened: its party.toml edited into
/// `dir`, beside links to the repository's recipes and fixtures.
fn party_with_short_grace(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("party.toml")).unwrap();
    let edited = text.replace(
        r#"{ use = "game-relay", with = { game-port = 7777, party = "soiree" } }"#,
        r#"{ use = "game-relay", with = { game-port = 7777, party = "soiree", grace = 2 } }"#,
    );
    assert_ne!(edited, text, "party.toml's Server package composes game-relay");
    let party = dir.join("party");
    std::fs::create_dir_all(&party).unwrap();
    std::fs::write(party.join("party.toml"), edited).unwrap();
    for link in ["recipes", "fixtures"] {
        std::os::unix::fs::symlink(repo().join(link).canonicalize().unwrap(), party.join(link)).unwrap();
    }
    party.join("party.toml")
}

/// `soiree-pack up PACKAGES --profile demo` of `party` with Sandstorm's real bridge, never
/// stopping idle grains.
fn start_up(work: &Path, party: &Path, packages: &[&str], bundle: &Path) -> Logged {
    let source = format!("sandstorm-bundle={}", bundle.display());
    let mut cmd = common::soiree(work, work);
    cmd.arg("up")
        .args(packages)
        .arg("--party")
        .arg(party)
        .args([
            "--profile",
            "demo",
            "--port",
            "0",
            "--idle",
            "0",
            "--source",
            &source,
        ])
        .env("NO_COLOR", "1");
    Logged::spawn(cmd, "soiree-pack up")
}

fn start_tunnel(url: &str) -> (Logged, u16) {
    let pack = Path::new(env!("CARGO_BIN_EXE_soiree-pack"));
    let mut cmd = Command::new(pack.with_file_name("soiree-tunnel"));
    cmd.args([url, "--listen", "127.0.0.1:0", "--idle", "2"]);
    let mut t = Logged::spawn(cmd, "soiree-tunnel");
    let log = t.wait_log("(UDP)", Duration::from_secs(20));
    let port = log
        .split("point the game at 127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in:\n{log}"));
    (t, port)
}

/// A Godot ENet client (the fixture project, `--client`) through the tunnel.
fn godot_client(project: &Path, port: u16, say: &str, stay: &str) -> Logged {
    let mut cmd = Command::new("godot3-server");
    cmd.arg("--path")
        .arg(project)
        .args(["--client", "--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--say", say, "--stay", stay]);
    Logged::spawn(cmd, &format!("godot client {say}"))
}

/// The shell index's line for the Server grain (its state and wake locks).
fn grain_line(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.lines()
        .find(|l| l.contains("/grain/server/"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn two_godot_enet_clients_play_through_soiree_tunnel_and_the_api_endpoint() {
    let Some(bundle) = bundle() else { return };
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let party = party_with_short_grace(work.path());
    let mut up = start_up(work.path(), &party, &["server"], &bundle);
    up.wait_log("3 services of `server` are up", Duration::from_secs(300));
    let text = up.wait_log("Ctrl-C stops every grain", Duration::from_secs(60));
    let gateway: u16 = text
        .split("the party is up: http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no gateway in:\n{text}"));
    let url = text
        .lines()
        .find_map(|l| l.strip_prefix("server: API "))
        .unwrap_or_else(|| panic!("no API URL in:\n{text}"))
        .trim()
        .to_string();

    let (mut tunnel, port) = start_tunnel(&url);
    // The fixture project, copied: Godot may write into a project it runs.
    let project = work.path().join("game");
    std::fs::create_dir_all(&project).unwrap();
    for f in ["project.godot", "main.gd", "main.tscn"] {
        std::fs::copy(repo().join("fixtures/godot-enet").join(f), project.join(f)).unwrap();
    }
    // Two clients at once, each staying a few seconds after its answer.
    let mut a = godot_client(&project, port, "alpha", "4");
    let mut b = godot_client(&project, port, "bravo", "4");
    let a_log = a.wait_log("client: pong", Duration::from_secs(60));
    let b_log = b.wait_log("client: pong", Duration::from_secs(60));
    // Each got its own answer only.
    assert!(
        a_log.contains("client: pong soiree alpha") && !a_log.contains("bravo"),
        "{a_log}"
    );
    assert!(
        b_log.contains("client: pong soiree bravo") && !b_log.contains("alpha"),
        "{b_log}"
    );
    let log = up.wait_log("relay: player", Duration::from_secs(5));
    // The server saw two peers, each calling with its own text.
    let peer_of = |say: &str| {
        log.lines()
            .find_map(|l| l.split(&format!("server: ping {say} from ")).nth(1))
            .unwrap_or_else(|| panic!("no ping {say} in:\n{log}"))
            .trim()
            .to_string()
    };
    assert_ne!(peer_of("alpha"), peer_of("bravo"), "{log}");
    assert!(log.contains("(2 playing)"), "both at once:\n{log}");
    // The tunnel says so, and while they play the emulator shows the relay's wake lock.
    tunnel.wait_log("2 players connected, round trip", Duration::from_secs(10));
    let line = grain_line(gateway);
    assert!(
        line.contains("awake: players are connected to the party `soiree`"),
        "{line}\n{}",
        up.log()
    );
    // They leave; the tunnel closes their WebSockets after 2 s of silence and the lock goes
    // 2 s (the grace) after the last.
    assert_eq!(a.finish(Duration::from_secs(30)).0, 0, "{}", a.log());
    assert_eq!(b.finish(Duration::from_secs(30)).0, 0, "{}", b.log());
    up.wait_log("relay: wake lock released", Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(10);
    while grain_line(gateway).contains("awake") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let line = grain_line(gateway);
    assert!(line.contains("(running)") && !line.contains("awake"), "{line}");

    // A bad token: the tunnel says the API endpoint refused it; nothing else is disturbed.
    let bad = url.replace("/.sandstorm-token/", "/.sandstorm-token/x");
    let (mut wrong, wrong_port) = start_tunnel(&bad);
    let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.send_to(b"hello?", ("127.0.0.1", wrong_port)).unwrap();
    let said = wrong.wait_log("cannot reach the relay", Duration::from_secs(20));
    assert!(said.contains("403"), "{said}");
    let (code, said) = wrong.interrupt();
    assert_eq!(code, 0, "{said}");
    let (code, said) = tunnel.interrupt();
    assert_eq!(code, 0, "Ctrl-C ends the tunnel cleanly:\n{said}");
    assert!(said.ends_with("soiree-tunnel: stopped\n"), "{said}");
    let (code, said) = up.interrupt();
    assert_eq!(code, 0, "{said}");
}

/// One HTTP/1.1 request with `Connection: close`: the status and the body.
fn request(port: u16, host: &str, method: &str, path: &str, auth: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 0\r\n");
    if let Some(a) = auth {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The game client's own `Authorization` reaches Uro through `soiree-tunnel --uro` (carried as
/// `X-Sandstorm-App-Authorization`, mapped back by the Uro package's nginx); sent straight to
/// the API endpoint, the same request is refused.
#[test]
fn the_game_client_logs_in_to_uro_through_soiree_tunnel() {
    let Some(bundle) = bundle() else { return };
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut up = start_up(
        work.path(),
        &repo().join("party.toml"),
        &["server", "uro"],
        &bundle,
    );
    up.wait_log("Ctrl-C stops every grain", Duration::from_secs(300));
    let text = up.wait_log("3 services of `uro` are up", Duration::from_secs(120));
    let url_of = |grain: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{grain}: API ")))
            .unwrap_or_else(|| panic!("no API URL of {grain} in:\n{text}"))
            .trim()
            .to_string()
    };
    let (server_url, uro_url) = (url_of("server"), url_of("uro"));
    // The one command players are given: the game relay and the Uro API.
    let pack = Path::new(env!("CARGO_BIN_EXE_soiree-pack"));
    let mut cmd = Command::new(pack.with_file_name("soiree-tunnel"));
    cmd.args([
        &server_url,
        "--listen",
        "127.0.0.1:0",
        "--uro",
        &uro_url,
        "--uro-listen",
        "127.0.0.1:0",
    ]);
    let mut tunnel = Logged::spawn(cmd, "soiree-tunnel");
    let said = tunnel.wait_log("Uro API on http://127.0.0.1:", Duration::from_secs(20));
    let uro_port: u16 = said
        .split("Uro API on http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    let local = format!("127.0.0.1:{uro_port}");

    let (status, body) = request(uro_port, &local, "POST", "/api/v1/login?user=alice", None);
    assert_eq!(status, 200, "{body}\n{}\n{}", tunnel.log(), up.log());
    let token = body
        .trim()
        .strip_prefix("token ")
        .unwrap_or_else(|| panic!("{body}"))
        .to_string();
    let bearer = format!("Bearer {token}");
    let (status, body) = request(uro_port, &local, "GET", "/api/v1/profile", Some(&bearer));
    assert_eq!((status, body.as_str()), (200, "user alice\n"));
    // Without a login Uro refuses, through the tunnel too (its 401 reaches the client as 400:
    // Sandstorm's bridge passes only the 4xx codes of its table).
    let (status, body) = request(uro_port, &local, "GET", "/api/v1/profile", Some("Bearer nope"));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("log in first"), "{body}");

    // Straight to the API endpoint, the same request is refused: the gateway takes the client's
    // Authorization for a Sandstorm token (with the grain's token in the path too); and a
    // request the gateway lets through carries no Authorization to Uro.
    let rest = uro_url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let gateway: u16 = host.rsplit(':').next().unwrap().parse().unwrap();
    let (status, _) = request(gateway, host, "GET", "/api/v1/profile", Some(&bearer));
    assert_eq!(status, 403);
    let (status, body) = request(
        gateway,
        host,
        "GET",
        &format!("/{path}api/v1/profile"),
        Some(&bearer),
    );
    assert_eq!(status, 403, "{body}");
    let (status, body) = request(gateway, host, "GET", &format!("/{path}api/v1/profile"), None);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("log in first"), "{body}");

    let (code, said) = tunnel.interrupt();
    assert_eq!(code, 0, "{said}");
    let (code, said) = up.interrupt();
    assert_eq!(code, 0, "{said}");
}
