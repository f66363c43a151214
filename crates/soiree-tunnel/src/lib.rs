//! The player's side of the game relay: local UDP carried over WebSocket to a Server grain.
//!
//! `soiree-tunnel`, on a player's machine: local UDP (the unmodified game's ENet) carried over
//! one WebSocket per local source address to the Server grain's relay, through its API URL.

pub mod endpoint;
mod session;
pub mod status;
pub mod uro;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};

pub use endpoint::Endpoint;

/// Asks Sandstorm's gateway to pass the player's address to the grain (`X-Real-IP`), so that
/// the relay can log who breached a limit; sent with every request the tunnel makes.
pub const PASSTHROUGH: (&str, &str) = ("x-sandstorm-passthrough", "address");

/// Datagrams waiting for a WebSocket that is (re)connecting; past this, new ones are dropped.
const QUEUE: usize = 1024;

/// How the tunnel runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub relay: Endpoint,
    /// A local address (the game's client) that sends nothing for this long loses its WebSocket.
    pub idle: Duration,
}

/// Carries datagrams between `udp` and the relay until `stop` turns true. Must run on a
/// `LocalSet`.
pub async fn run(udp: UdpSocket, opts: Options, stats: status::Stats, mut stop: watch::Receiver<bool>) {
    let udp = Rc::new(udp);
    let opts = Rc::new(opts);
    let mut players: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut tasks = Vec::new();
    loop {
        let (n, from) = tokio::select! {
            r = udp.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    // An ICMP error for an earlier send to a game that went away: not fatal.
                    if e.kind() != std::io::ErrorKind::ConnectionRefused {
                        eprintln!("soiree-tunnel: UDP: {e}");
                    }
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let datagram = buf[..n].to_vec();
        let sender = players.get(&from).filter(|s| !s.is_closed()).cloned();
        let sender = match sender {
            Some(s) => s,
            None => {
                // Players who left are forgotten when a new one arrives, not on every datagram.
                players.retain(|_, s| !s.is_closed());
                tasks.retain(|t: &tokio::task::JoinHandle<()>| !t.is_finished());
                let (tx, rx) = mpsc::channel(QUEUE);
                let task = tokio::task::spawn_local(session::run(
                    from,
                    rx,
                    udp.clone(),
                    opts.clone(),
                    stats.clone(),
                    stop.clone(),
                ));
                tasks.push(task);
                players.insert(from, tx.clone());
                tx
            }
        };
        if sender.try_send(datagram).is_err() {
            stats.dropped();
        }
    }
    // Each session closes its WebSocket on `stop`: give them a moment to say goodbye.
    drop(players);
    let _ = tokio::time::timeout(Duration::from_secs(2), futures::future::join_all(tasks)).await;
}
