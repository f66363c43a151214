//! The game relay a Server grain runs: each player's WebSocket to UDP datagrams of their own.
//!
//! Behind the grain's web server, each player's WebSocket carries the game's UDP datagrams, one
//! binary message each, to and from a UDP socket of the player's own.

pub mod args;
mod limits;
mod passthrough;
mod player;
mod route;
pub mod wake;

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

pub use limits::Limits;

/// Which of the game's transports the relay offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// ENet (UDP) through `/.soiree/relay`.
    Enet,
    /// The game's own WebSocket server through `/.soiree/game`.
    #[value(name = "websocket")]
    WebSocket,
    Both,
}

impl Mode {
    fn enet(self) -> bool {
        self != Mode::WebSocket
    }

    fn websocket(self) -> bool {
        self != Mode::Enet
    }
}

/// The path players' tunnels reach the ENet relay at.
pub const RELAY_PATH: &str = "/.soiree/relay";
/// The path Godot `WebSocketMultiplayerPeer` clients reach the game's own server at.
pub const GAME_PATH: &str = "/.soiree/game";

/// Everything the relay is told.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the game listens, on the grain's loopback (UDP for ENet, TCP for WebSocket).
    pub game_port: u16,
    pub mode: Mode,
    pub limits: Limits,
    /// The party's name, for the wake lock's notification.
    pub party: String,
    /// How long the wake lock outlives the last player.
    pub grace: Duration,
    /// Sandstorm's API socket (`/tmp/sandstorm-api`); `None`: no wake lock.
    pub sandstorm_api: Option<std::path::PathBuf>,
}

/// Serves players on `listener` until the task is dropped. Must run on a `LocalSet` (the wake
/// lock's Cap'n Proto objects are not `Send`).
pub async fn serve(listener: tokio::net::TcpListener, opts: Options) {
    let opts = Rc::new(opts);
    let players = wake::Players::new();
    if let Some(api) = &opts.sandstorm_api {
        tokio::task::spawn_local(wake::hold_while_playing(
            api.clone(),
            players.clone(),
            opts.party.clone(),
            opts.grace,
        ));
    }
    let mut next_id: u64 = 0;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of descriptors and the like: wait rather than spin.
                eprintln!("relay: cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        next_id += 1;
        let id = next_id;
        let opts = opts.clone();
        let players = players.clone();
        tokio::task::spawn_local(async move {
            connection(stream, peer, id, &opts, players).await;
        });
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    id: u64,
    opts: &Options,
    players: wake::Players,
) {
    let _ = stream.set_nodelay(true);
    let head = match route::peek_head(&stream).await {
        Ok(Some(h)) => h,
        Ok(None) => return,
        Err(e) => {
            eprintln!("relay: connection from {peer}: {e}");
            route::refuse(stream, 400, &e).await;
            return;
        }
    };
    let who = head.real_ip.clone().unwrap_or_else(|| "unknown".into());
    let enet = match head.path.as_str() {
        RELAY_PATH if opts.mode.enet() => true,
        GAME_PATH if opts.mode.websocket() => false,
        other => {
            eprintln!("relay: {who}: no route for {other:?} (mode {:?})", opts.mode);
            route::refuse(stream, 404, "no such route").await;
            return;
        }
    };
    let tag = format!("player {id} ({who}):");
    if players.count() >= opts.limits.max_players {
        eprintln!(
            "relay: {tag} refused: {} players already (the limit, --max-players)",
            players.count()
        );
        route::refuse(stream, 503, "the party is full").await;
    } else if enet {
        player::run(stream, &tag, opts, players).await
    } else {
        passthrough::run(stream, &tag, opts, players).await
    }
}
