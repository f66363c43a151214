//! The relay's plain WebSocket route: a real Godot WebSocket client (the fixture project,
//! `--websocket --client`, on Debian's `godot3-server`) reaches a real Godot WebSocket server
//! through `/.soiree/game` and exchanges RPCs; the ENet route is off in `websocket` mode.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use soiree_test_support::{free_tcp_port, Logged};

/// How long each program's line is waited for.
const WAIT: Duration = Duration::from_secs(30);

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
    let mut cmd = Command::new("godot3-server");
    cmd.arg("--path")
        .arg(&project)
        .args(["--websocket", "--port", &game_port.to_string()]);
    let mut server = Logged::lines(cmd, "godot server");
    server.wait_log("server: listening on WebSocket", WAIT);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_soiree-relay"));
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--game-port",
        &game_port.to_string(),
        "--mode",
        "websocket",
        "--no-wake-lock",
    ]);
    let mut relay = Logged::lines(cmd, "soiree-relay");
    let line = relay.wait_log("relay: listening on ", WAIT);
    let relay_addr = line
        .split("relay: listening on ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .to_string();
    let mut cmd = Command::new("godot3-server");
    cmd.arg("--path")
        .arg(&project)
        .args(["--websocket", "--client", "--say", "over websocket", "--url"])
        .arg(format!("ws://{relay_addr}/.soiree/game"));
    let mut client = Logged::lines(cmd, "godot client");
    let said = client.wait_log("client: pong", WAIT);
    assert!(said.contains("client: pong soiree over websocket"), "{said}");
    server.wait_log("server: ping over websocket from ", WAIT);
    relay.wait_log("joined over WebSocket to 127.0.0.1:", WAIT);
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
