//! One ENet player: their WebSocket and a UDP socket of their own to the game, each datagram one
//! binary message, both ways, within the limits; every breach logged with their address.

use std::cell::Cell;
use std::io::ErrorKind;

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;

use crate::limits::Bucket;
use crate::{route, wake, Options};

/// Messages above this close the connection inside tungstenite; below it, one above the
/// datagram limit is dropped and logged while the player stays.
const MAX_MESSAGE: usize = 64 * 1024;

/// What happened to one player, counted, and said once each as it first happens.
#[derive(Default)]
struct Breaches {
    oversized_in: Cell<u64>,
    oversized_out: Cell<u64>,
    over_rate: Cell<u64>,
    queue_full: Cell<u64>,
    game_closed: Cell<u64>,
}

impl Breaches {
    fn note(&self, counter: &Cell<u64>, tag: &str, first: impl FnOnce() -> String) {
        counter.set(counter.get() + 1);
        if counter.get() == 1 {
            eprintln!("relay: {tag} {} (said once; counted until they leave)", first());
        }
    }

    fn summary(&self) -> String {
        let parts: Vec<String> = [
            ("oversized from player", &self.oversized_in),
            ("oversized from game", &self.oversized_out),
            ("over rate", &self.over_rate),
            ("queue full", &self.queue_full),
            ("game port closed", &self.game_closed),
        ]
        .iter()
        .filter(|(_, c)| c.get() > 0)
        .map(|(n, c)| format!("{n}: {}", c.get()))
        .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" (dropped datagrams, {})", parts.join(", "))
        }
    }
}

/// `tag` names the player in the log; the relay has made sure there is room for them.
pub async fn run(stream: TcpStream, tag: &str, opts: &Options, players: wake::Players) {
    let limits = &opts.limits;
    let udp = match UdpSocket::bind(("127.0.0.1", 0)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("relay: {tag} no UDP socket for them: {e}");
            route::refuse(stream, 503, "no socket for this player").await;
            return;
        }
    };
    if let Err(e) = udp.connect(("127.0.0.1", opts.game_port)).await {
        eprintln!(
            "relay: {tag} cannot aim at the game's UDP port {}: {e}",
            opts.game_port
        );
        route::refuse(stream, 502, "the game cannot be reached").await;
        return;
    }
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(MAX_MESSAGE);
    config.max_frame_size = Some(MAX_MESSAGE);
    let ws = match tokio_tungstenite::accept_async_with_config(stream, Some(config)).await {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("relay: {tag} WebSocket handshake failed: {e}");
            return;
        }
    };
    let _seat = players.join();
    eprintln!(
        "relay: {tag} joined, UDP to 127.0.0.1:{} ({} playing)",
        opts.game_port,
        players.count()
    );
    let (mut sink, mut from_ws) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(limits.queue.max(1));
    let breaches = Breaches::default();
    let game_port = opts.game_port;

    let from_player = async {
        let mut bucket = Bucket::new(limits.max_rate);
        loop {
            let msg = match tokio::time::timeout(limits.idle, from_ws.next()).await {
                Err(_) => {
                    return (
                        format!("idle for {} s, disconnected", limits.idle.as_secs()),
                        None,
                    )
                }
                Ok(None) => return ("left".to_string(), None),
                Ok(Some(Err(e))) => return (format!("left: {e}"), None),
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Binary(data) => {
                    if data.len() > limits.max_datagram {
                        breaches.note(&breaches.oversized_in, tag, || {
                            format!(
                                "sent a datagram of {} bytes, over the limit of {} (--max-datagram): dropped",
                                data.len(),
                                limits.max_datagram
                            )
                        });
                    } else if !bucket.take() {
                        breaches.note(&breaches.over_rate, tag, || {
                            format!(
                                "sends more than {} datagrams/s (--max-rate): the excess is dropped",
                                limits.max_rate
                            )
                        });
                    } else if let Err(e) = udp.send(&data).await {
                        game_error(&breaches, tag, game_port, &e);
                    }
                }
                Message::Text(_) => {
                    return (
                        "sent a text message; the relay carries binary messages only: disconnected".into(),
                        Some(CloseCode::Unsupported),
                    );
                }
                Message::Close(_) => return ("left".to_string(), None),
                // Pings are answered by tungstenite itself.
                _ => {}
            }
        }
    };
    let from_game = async {
        // One byte over the limit is enough to see a datagram is over it (recv truncates).
        let mut buf = vec![0u8; limits.max_datagram + 1];
        loop {
            match udp.recv(&mut buf).await {
                Ok(n) if n > limits.max_datagram => {
                    breaches.note(&breaches.oversized_out, tag, || {
                        format!(
                            "the game sent a datagram over the limit of {} bytes: dropped",
                            limits.max_datagram
                        )
                    });
                }
                Ok(n) => {
                    if tx.try_send(buf[..n].to_vec()).is_err() {
                        breaches.note(&breaches.queue_full, tag, || {
                            format!(
                                "reads slower than the game sends: {} datagrams queued (--queue), new ones dropped",
                                limits.queue
                            )
                        });
                    }
                }
                Err(e) => game_error(&breaches, tag, game_port, &e),
            }
        }
    };
    let to_player = async {
        while let Some(d) = rx.recv().await {
            if let Err(e) = sink.send(Message::Binary(d.into())).await {
                return format!("left: {e}");
            }
        }
        "left".to_string()
    };
    let (why, close) = tokio::select! {
        r = from_player => r,
        r = to_player => (r, None),
        () = from_game => unreachable_end(),
    };
    if let Some(code) = close {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: "binary messages only".into(),
            })))
            .await;
    }
    let _ = sink.close().await;
    drop(_seat);
    eprintln!(
        "relay: {tag} {why}{} ({} playing)",
        breaches.summary(),
        players.count()
    );
}

/// `from_game` loops forever; this keeps `select!`'s arms of one type.
fn unreachable_end() -> (String, Option<CloseCode>) {
    ("the game's socket ended".into(), None)
}

fn game_error(breaches: &Breaches, tag: &str, port: u16, e: &std::io::Error) {
    if e.kind() == ErrorKind::ConnectionRefused {
        breaches.note(&breaches.game_closed, tag, || {
            format!("nothing listens on the game's UDP port 127.0.0.1:{port}: their datagrams are lost")
        });
    } else {
        eprintln!("relay: {tag} UDP error: {e}");
    }
}
