//! The real `soiree-relay` program between WebSocket players and a UDP echo "game": datagrams
//! keep their bounds and their player; bad input (oversized datagrams, a flood, text messages,
//! a closed game port, a full party, an unknown route) is logged with the player's address and
//! hurts nobody else.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A UDP "game" that echoes every datagram to its sender; its port.
fn echo_game() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok((n, from)) = s.recv_from(&mut buf) {
            let _ = s.send_to(&buf[..n], from);
        }
    });
    port
}

struct Relay {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Relay {
    fn start(game_port: u16, extra: &[&str]) -> Relay {
        let mut child = Command::new(env!("CARGO_BIN_EXE_soiree-relay"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--game-port",
                &game_port.to_string(),
                "--no-wake-lock",
            ])
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("relay: listening on ") {
                    let _ = tx.send(rest.split(' ').next().unwrap_or_default().to_string());
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(20)).unwrap();
        Relay { child, addr, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    async fn wait_log(&self, want: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let l = self.log();
            if l.contains(want) {
                return l;
            }
            assert!(Instant::now() < deadline, "no `{want}` in the relay's log:\n{l}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn player(&self, path: &str, ip: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let mut req = format!("ws://{}{path}", self.addr).into_client_request().unwrap();
        req.headers_mut().insert("x-real-ip", ip.parse().unwrap());
        tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn next_binary(ws: &mut Ws) -> Vec<u8> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Binary(b)))) => return b.to_vec(),
            Ok(Some(Ok(_))) => continue,
            other => panic!("no datagram back: {other:?}"),
        }
    }
}

async fn echo(ws: &mut Ws, data: &[u8]) -> Vec<u8> {
    ws.send(Message::Binary(data.to_vec().into())).await.unwrap();
    next_binary(ws).await
}

#[tokio::test]
async fn players_are_kept_apart_and_bad_input_hurts_only_its_sender() {
    let relay = Relay::start(
        echo_game(),
        &[
            "--max-datagram",
            "1200",
            "--max-rate",
            "400",
            "--max-players",
            "4",
        ],
    );
    let mut a = relay.player("/.soiree/relay", "203.0.113.1").await.unwrap();
    let mut b = relay.player("/.soiree/relay", "203.0.113.2").await.unwrap();
    // Bounds kept: three datagrams of different sizes come back as three messages.
    for n in [1usize, 200, 1200] {
        let d: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        assert_eq!(echo(&mut a, &d).await, d);
    }
    assert_eq!(echo(&mut b, b"from b").await, b"from b");

    // An oversized datagram is dropped and logged with the player's address; they stay.
    b.send(Message::Binary(vec![7u8; 2000].into())).await.unwrap();
    relay
        .wait_log("player 2 (203.0.113.2): sent a datagram of 2000 bytes, over the limit of 1200")
        .await;
    assert_eq!(echo(&mut b, b"still here").await, b"still here");

    // A flood from b: the excess over its rate is dropped and logged; a keeps its echoes.
    for i in 0..3000u32 {
        b.send(Message::Binary(i.to_be_bytes().to_vec().into()))
            .await
            .unwrap();
    }
    relay
        .wait_log("player 2 (203.0.113.2): sends more than 400 datagrams/s")
        .await;
    for i in 0..20u32 {
        let d = format!("a{i}");
        let started = Instant::now();
        assert_eq!(echo(&mut a, d.as_bytes()).await, d.as_bytes());
        assert!(started.elapsed() < Duration::from_millis(500));
    }
    // b got back at most what the rate let through, and only its own.
    let mut got = 0;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_millis(300), b.next()).await {
        if let Message::Binary(d) = m {
            assert_eq!(d.len(), 4, "b only gets its own datagrams back");
            got += 1;
        }
    }
    // At most a second's burst and what refilled (the echo socket may drop some of a burst).
    assert!((1..=450).contains(&got), "{got} of 3000 came back to b");

    // A text message is not a datagram: that player is told and disconnected.
    let mut c = relay.player("/.soiree/relay", "203.0.113.3").await.unwrap();
    c.send(Message::Text("hello".into())).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(5), c.next()).await {
        Ok(Some(Ok(Message::Close(Some(f))))) => assert_eq!(u16::from(f.code), 1003),
        other => panic!("expected a close: {other:?}"),
    }
    relay
        .wait_log("player 3 (203.0.113.3): sent a text message; the relay carries binary messages only")
        .await;

    // Too many players: the fifth is refused (a, b, d, e playing; c left).
    let _d = relay.player("/.soiree/relay", "203.0.113.4").await.unwrap();
    let _e = relay.player("/.soiree/relay", "203.0.113.5").await.unwrap();
    let refused = relay.player("/.soiree/relay", "203.0.113.6").await.err().unwrap();
    assert!(refused.to_string().contains("503"), "{refused}");
    relay
        .wait_log("player 6 (203.0.113.6): refused: 4 players already")
        .await;

    // No such route.
    let nothing = relay.player("/elsewhere", "203.0.113.7").await.err().unwrap();
    assert!(nothing.to_string().contains("404"), "{nothing}");

    // a is unaffected by all of it, and the relay still runs.
    assert_eq!(echo(&mut a, b"after").await, b"after");
    let mut relay = relay;
    assert!(relay.child.try_wait().unwrap().is_none(), "{}", relay.log());
}

#[tokio::test]
async fn a_closed_game_port_is_logged_and_the_player_stays() {
    let closed = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let relay = Relay::start(port, &[]);
    let mut p = relay.player("/.soiree/relay", "198.51.100.7").await.unwrap();
    for _ in 0..3 {
        p.send(Message::Binary(b"anyone?".to_vec().into())).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = relay
        .wait_log(&format!(
            "player 1 (198.51.100.7): nothing listens on the game's UDP port 127.0.0.1:{port}"
        ))
        .await;
    assert_eq!(log.matches("nothing listens").count(), 1, "said once:\n{log}");
    // The game comes up on that port: the same player's datagrams reach it.
    let game = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    p.send(Message::Binary(b"now?".to_vec().into())).await.unwrap();
    game.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = game.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"now?");
    game.send_to(b"yes", from).unwrap();
    assert_eq!(next_binary(&mut p).await, b"yes");
    drop(p);
    relay.wait_log("(dropped datagrams, game port closed: ").await;
}
