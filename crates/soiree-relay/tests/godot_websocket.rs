//! The relay's plain WebSocket route: a real Godot WebSocket client (the fixture project,
//! `--websocket --client`, on Debian's `godot3-server`) reaches a real Godot WebSocket server
//! through `/.soiree/game` and exchanges RPCs; the ENet route is off in `websocket` mode.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Logged(Child, Arc<Mutex<String>>);

impl Logged {
    fn spawn(cmd: &mut Command) -> Logged {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        for r in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
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
        Logged(child, log)
    }

    fn wait(&self, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let l = self.1.lock().unwrap().clone();
            if l.contains(want) {
                return l;
            }
            assert!(Instant::now() < deadline, "no `{want}` in:\n{l}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_godot_websocket_client_plays_through_the_game_route() {
    assert!(
        Command::new("godot3-server").arg("--version").output().is_ok(),
        "godot3-server is missing: apt-get install godot3-server (cargo xtask test installs it)"
    );
    let work = tempfile_dir();
    let project = work.join("game");
    std::fs::create_dir_all(&project).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/godot-enet");
    for f in ["project.godot", "main.gd", "main.tscn"] {
        std::fs::copy(fixture.join(f), project.join(f)).unwrap();
    }
    let game_port = free_tcp_port();
    let server = Logged::spawn(Command::new("godot3-server").arg("--path").arg(&project).args([
        "--websocket",
        "--port",
        &game_port.to_string(),
    ]));
    server.wait("server: listening on WebSocket");
    let relay = Logged::spawn(Command::new(env!("CARGO_BIN_EXE_soiree-relay")).args([
        "--listen",
        "127.0.0.1:0",
        "--game-port",
        &game_port.to_string(),
        "--mode",
        "websocket",
        "--no-wake-lock",
    ]));
    let line = relay.wait("relay: listening on ");
    let relay_addr = line
        .split("relay: listening on ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .to_string();
    let client = Logged::spawn(
        Command::new("godot3-server")
            .arg("--path")
            .arg(&project)
            .args(["--websocket", "--client", "--say", "over websocket", "--url"])
            .arg(format!("ws://{relay_addr}/.soiree/game")),
    );
    let said = client.wait("client: pong");
    assert!(said.contains("client: pong soiree over websocket"), "{said}");
    server.wait("server: ping over websocket from ");
    relay.wait("joined over WebSocket to 127.0.0.1:");
    // In `websocket` mode the ENet route is not offered.
    let mut s = std::net::TcpStream::connect(&relay_addr).unwrap();
    std::io::Write::write_all(&mut s, b"GET /.soiree/relay HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut s, &mut answer);
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let _ = std::fs::remove_dir_all(&work);
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("godot-ws-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
