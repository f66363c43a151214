//! Players reach the game in a Server grain through its API endpoint: `soiree-pack up --profile
//! demo` runs the repository's Server package (Godot 3's ENet server, nginx, soiree-relay) behind
//! Sandstorm's real bridge; `soiree-tunnel` carries real Godot ENet clients' UDP over WebSocket
//! through the emulated API host, kept apart; the relay's wake lock is held while they play; a
//! bad token is refused with a clear line; breaches are logged with the player's address (the
//! tunnel asks for passthrough) or as unknown; the Server page's player link (in headless Chromium)
//! lets a player in, and the shard stays in Uro's list with its player while they play.

mod common;

use fantoccini::Locator;
use soiree_test_support::{enter_grain_frame, gateway_port, http_request, sandstorm_bundle, step, Logged};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A program of these tests: its output collected line by line, and stopped by Ctrl-C (then
/// killed) when dropped, so that `up` stops its grains.
fn spawn(cmd: Command, what: &str) -> Logged {
    Logged::lines(cmd, what).interrupt_on_drop()
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

/// `soiree-pack up PACKAGES --profile demo EXTRA…` of `party` with Sandstorm's real bridge,
/// never stopping idle grains.
fn start_up(work: &Path, party: &Path, packages: &[&str], extra: &[&str], bundle: &Path) -> Logged {
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
        .args(extra)
        .env("NO_COLOR", "1");
    spawn(cmd, "soiree-pack up")
}

/// The port of `up`'s gateway (the shell's address) in its log.
fn gateway_of(text: &str) -> u16 {
    gateway_port(text).unwrap_or_else(|| panic!("no gateway in:\n{text}"))
}

/// The API endpoint's URL `up` printed for `grain`.
fn api_url(text: &str, grain: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{grain}: API ")))
        .unwrap_or_else(|| panic!("no API URL of {grain} in:\n{text}"))
        .trim()
        .to_string()
}

/// The fixture project, copied into `work`: Godot may write into a project it runs.
fn game_project(work: &Path) -> PathBuf {
    let project = work.join("game");
    std::fs::create_dir_all(&project).unwrap();
    for f in ["project.godot", "main.gd", "main.tscn"] {
        std::fs::copy(repo().join("fixtures/godot-enet").join(f), project.join(f)).unwrap();
    }
    project
}

fn start_tunnel(url: &str) -> (Logged, u16) {
    let pack = Path::new(env!("CARGO_BIN_EXE_soiree-pack"));
    let mut cmd = Command::new(pack.with_file_name("soiree-tunnel"));
    cmd.args([url, "--listen", "127.0.0.1:0", "--idle", "2"]);
    let mut t = spawn(cmd, "soiree-tunnel");
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
    spawn(cmd, &format!("godot client {say}"))
}

/// The shell index's line for the Server grain (its state and wake locks).
fn grain_line(port: u16) -> String {
    let (_, index) = http_request(port, "localhost", "GET", "/", &[], "");
    index
        .lines()
        .find(|l| l.contains("/grain/server/"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn two_godot_enet_clients_play_through_soiree_tunnel_and_the_api_endpoint() {
    let Some(bundle) = sandstorm_bundle() else { return };
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let party = party_with_short_grace(work.path());
    let mut up = start_up(work.path(), &party, &["server"], &[], &bundle);
    up.wait_log("3 services of `server` are up", Duration::from_secs(300));
    let text = up.wait_log("Ctrl-C stops every grain", Duration::from_secs(60));
    let gateway = gateway_of(&text);
    let url = api_url(&text, "server");

    let (mut tunnel, port) = start_tunnel(&url);
    let project = game_project(work.path());
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
    // The tunnel asked the gateway to pass each player's address: the relay names them by it.
    assert!(
        log.contains("(127.0.0.1): joined") && !log.contains("(unknown)"),
        "{log}"
    );
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
    assert_eq!(a.finish(Duration::from_secs(30)).0, Some(0), "{}", a.log());
    assert_eq!(b.finish(Duration::from_secs(30)).0, Some(0), "{}", b.log());
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
    let (code, said) = wrong.interrupt(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{said}");

    // A breach is logged with the player's address as the bridge gives it; a client that does
    // not ask for passthrough (a bare WebSocket) is logged as unknown.
    let big = vec![7u8; 5000];
    let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.send_to(&big, ("127.0.0.1", port)).unwrap();
    let over = "): sent a datagram of 5000 bytes, over the limit of 4096";
    let log = up.wait_log(&format!("(127.0.0.1{over}"), Duration::from_secs(20));
    assert!(!log.contains(&format!("(unknown{over}")), "{log}");
    let mut bare = bare_relay_player(&url, gateway);
    bare.write_all(&masked_binary_frame(&big)).unwrap();
    up.wait_log(&format!("(unknown{over}"), Duration::from_secs(20));
    drop(bare);

    let (code, said) = tunnel.interrupt(Duration::from_secs(60));
    assert_eq!(code, Some(0), "Ctrl-C ends the tunnel cleanly:\n{said}");
    assert!(said.ends_with("soiree-tunnel: stopped\n"), "{said}");
    let (code, said) = up.interrupt(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{said}");
}

/// A WebSocket to the relay at the API URL `url` as a plain client opens it: no
/// `X-Sandstorm-Passthrough`.
fn bare_relay_player(url: &str, gateway: u16) -> TcpStream {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = TcpStream::connect(("127.0.0.1", gateway)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET /{path}.soiree/relay HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s
}

/// One binary WebSocket frame as a client sends it (masked), for payloads under 64 KiB.
fn masked_binary_frame(payload: &[u8]) -> Vec<u8> {
    let mask = [1u8, 2, 3, 4];
    let mut f = vec![0x82, 0x80 | 126];
    f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

/// One HTTP/1.1 request with `Connection: close`, with `auth` as its `Authorization`: the
/// status and the body.
fn request(port: u16, host: &str, method: &str, path: &str, auth: Option<&str>) -> (u16, String) {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    http_request(port, host, method, path, &headers, "")
}

/// The game client's own `Authorization` reaches Uro through `soiree-tunnel --uro` (carried as
/// `X-Sandstorm-App-Authorization`, mapped back by the Uro package's nginx); sent straight to
/// the API endpoint, the same request is refused.
#[test]
fn the_game_client_logs_in_to_uro_through_soiree_tunnel() {
    let Some(bundle) = sandstorm_bundle() else { return };
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut up = start_up(
        work.path(),
        &repo().join("party.toml"),
        &["server", "uro"],
        &[],
        &bundle,
    );
    up.wait_log("Ctrl-C stops every grain", Duration::from_secs(300));
    let text = up.wait_log("3 services of `uro` are up", Duration::from_secs(120));
    let (server_url, uro_url) = (api_url(&text, "server"), api_url(&text, "uro"));
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
    let mut tunnel = spawn(cmd, "soiree-tunnel");
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

    let (code, said) = tunnel.interrupt(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{said}");
    let (code, said) = up.interrupt(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{said}");
}

/// What the Server grain's page shows in Chromium: the rendered `soiree-tunnel` command, what its
/// copy button selected, and the WebSocket URL.
struct PlayerLink {
    command: String,
    copied: String,
    websocket: String,
}

/// Opens the Server grain in the shell as its owner would and reads its two offer templates.
fn player_link_in_chromium(work: &Path, gateway: u16) -> Result<PlayerLink, String> {
    let chromium = soiree_test_support::Chromium::start(&work.join("chromium-profile"));
    let shell_url = format!("http://127.0.0.1:{gateway}/grain/server/");
    chromium.run(|c| async move {
        // One offer frame of the grain's page: waits for the shell's answer, enters it, reads
        // the text (and clicks copy when asked), and comes back to the grain's page.
        let offer = |id: &'static str, copy: bool| {
            let c = c.clone();
            async move {
                let frame = c
                    .wait()
                    .for_element(Locator::Id(id))
                    .await
                    .map_err(step("an offer frame"))?;
                let deadline = Instant::now() + Duration::from_secs(30);
                while frame
                    .attr("src")
                    .await
                    .map_err(step("its src"))?
                    .unwrap_or_default()
                    .is_empty()
                {
                    if Instant::now() > deadline {
                        return Err(format!("{id}: the shell never answered renderTemplate"));
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                frame.enter_frame().await.map_err(step("enter the offer"))?;
                let text = c
                    .wait()
                    .for_element(Locator::Id("offer-text"))
                    .await
                    .map_err(step("the offer's text"))?
                    .text()
                    .await
                    .map_err(step("the text"))?;
                // The page keeps its token alive while shown: its first keepalive is answered
                // by the API host.
                let deadline = Instant::now() + Duration::from_secs(10);
                loop {
                    let kept = c
                        .execute("return document.body.dataset.keepalive || ''", vec![])
                        .await
                        .map_err(step("the keepalive"))?;
                    match kept.as_str().unwrap_or_default() {
                        "200" => break,
                        "" if Instant::now() < deadline => {
                            tokio::time::sleep(Duration::from_millis(100)).await
                        }
                        other => return Err(format!("{id}: the offer page's keepalive: {other:?}")),
                    }
                }
                let mut copied = String::new();
                if copy {
                    c.find(Locator::Id("offer-copy"))
                        .await
                        .map_err(step("the copy button"))?
                        .click()
                        .await
                        .map_err(step("click copy"))?;
                    let sel = c
                        .execute("return window.getSelection().toString()", vec![])
                        .await
                        .map_err(step("the selection"))?;
                    copied = sel.as_str().unwrap_or_default().to_string();
                }
                c.enter_parent_frame().await.map_err(step("leave the offer"))?;
                Ok::<(String, String), String>((text, copied))
            }
        };
        enter_grain_frame(&c, &shell_url).await?;
        let (command, copied) = offer("player-command", true).await?;
        let (websocket, _) = offer("player-websocket", false).await?;
        Ok(PlayerLink {
            command,
            copied,
            websocket,
        })
    })
}

/// Uro's list of fresh shards, asked of the Uro grain's UI.
fn shards(gateway: u16) -> serde_json::Value {
    let host = format!("ui-uro.localhost:{gateway}");
    let (status, body) = request(gateway, &host, "GET", "/api/v1/shards", None);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The demo shard's `current_users`, if it is in the list.
fn demo_shard_users(gateway: u16) -> Option<(String, i64)> {
    let list = shards(gateway);
    list["data"]["shards"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "soiree demo")
        .map(|s| (s["id"].to_string(), s["current_users"].as_i64().unwrap_or(-1)))
}

/// Waits until the demo shard is listed with `users` players.
fn wait_users(gateway: u16, users: i64, up: &Logged) -> String {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some((id, n)) = demo_shard_users(gateway) {
            if n == users {
                return id;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no shard with {users} players: {}\n{}",
            shards(gateway),
            up.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The player link and the shard while players play. Under `up server uro --link server.uro=uro`
/// the Server grain's page, in headless Chromium, shows the `soiree-tunnel` command the shell
/// rendered with a new API token (the copy button selects exactly it) and the WebSocket URL; the
/// command's token takes a Godot ENet client through soiree-tunnel to its pong; while it stays,
/// the shard the Server registered through its Uro link stays in Uro's list of fresh shards
/// (kept 30 s after the last heartbeat) for longer than 30 s, its `current_users` says 1, and the
/// relay's wake lock is held; after the player leaves, the heartbeats say 0.
#[test]
fn the_server_pages_player_link_lets_a_player_in_and_the_shard_stays_listed_while_they_play() {
    let Some(bundle) = sandstorm_bundle() else { return };
    let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let mut up = start_up(
        work.path(),
        &repo().join("party.toml"),
        &["server", "uro"],
        &["--link", "server.uro=uro"],
        &bundle,
    );
    let text = up.wait_log("Ctrl-C stops every grain", Duration::from_secs(300));
    let gateway = gateway_of(&text);
    let printed = api_url(&text, "server");
    up.wait_log("3 services of `uro` are up", Duration::from_secs(120));
    up.wait_log("3 services of `server` are up", Duration::from_secs(120));

    let link = player_link_in_chromium(work.path(), gateway).unwrap_or_else(|e| panic!("{e}\n{}", up.log()));
    // The command as the template says, with up's API host and scheme and a token of its own.
    let url = link
        .command
        .strip_prefix("soiree-tunnel '")
        .and_then(|r| r.strip_suffix('\''))
        .unwrap_or_else(|| panic!("not a soiree-tunnel command: {:?}", link.command))
        .to_string();
    assert!(
        url.starts_with("http://api-") && url.contains(".localhost:") && url.ends_with('/'),
        "{url}"
    );
    assert!(
        url.contains("/.sandstorm-token/") && !url.contains("$API"),
        "{url}"
    );
    assert_ne!(url, printed, "the page's link is a new token");
    assert_eq!(link.copied, link.command, "the copy button takes the command");
    let ws_base = link
        .websocket
        .strip_suffix(".soiree/game")
        .unwrap_or_else(|| panic!("{}", link.websocket));
    assert!(
        ws_base.starts_with("ws://api-") && ws_base.contains("/.sandstorm-token/"),
        "{ws_base}"
    );

    // A player uses the command's token.
    let (mut tunnel, port) = start_tunnel(&url);
    let project = game_project(work.path());
    let mut player = godot_client(&project, port, "charlie", "40");
    let said = player.wait_log("client: pong", Duration::from_secs(60));
    assert!(said.contains("client: pong soiree charlie"), "{said}");

    // The heartbeats carry the player; the shard stays listed beyond Uro's 30 s, one shard
    // throughout, and the grain stays awake for the player.
    let id = wait_users(gateway, 1, &up);
    let since = Instant::now();
    while since.elapsed() < Duration::from_secs(33) {
        let now = demo_shard_users(gateway);
        assert_eq!(
            now,
            Some((id.clone(), 1)),
            "after {:?}: {}\n{}",
            since.elapsed(),
            shards(gateway),
            up.log()
        );
        let line = grain_line(gateway);
        assert!(
            line.contains("awake: players are connected to the party `soiree`"),
            "{line}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    // The player leaves; the next heartbeat says so.
    assert_eq!(
        player.finish(Duration::from_secs(30)).0,
        Some(0),
        "{}",
        player.log()
    );
    assert_eq!(wait_users(gateway, 0, &up), id);

    let (code, said) = tunnel.interrupt(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{said}");
    let (code, said) = up.interrupt(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{said}");
}
