//! The relay's command line, as the `game-relay` recipe writes it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::{Limits, Mode, Options};

/// Carries a game's UDP datagrams over players' WebSockets (one binary message each), and offers
/// the game's own WebSocket server; run in a Server grain behind its web server.
#[derive(Parser, Debug)]
#[command(name = "soiree-relay", version)]
pub struct Args {
    /// Where the web server reaches the relay.
    #[arg(long, default_value = "127.0.0.1:7780")]
    pub listen: SocketAddr,
    /// The game's port on the grain's loopback (UDP for ENet, TCP for WebSocket).
    #[arg(long, default_value_t = 7777)]
    pub game_port: u16,
    /// `enet`: /.soiree/relay; `websocket`: /.soiree/game; `both`.
    #[arg(long, value_enum, default_value_t = Mode::Enet)]
    pub mode: Mode,
    /// Largest datagram carried, in bytes.
    #[arg(long, default_value_t = Limits::default().max_datagram)]
    pub max_datagram: usize,
    /// Players at once.
    #[arg(long, default_value_t = Limits::default().max_players)]
    pub max_players: usize,
    /// Seconds a player may send nothing before being disconnected.
    #[arg(long, default_value_t = Limits::default().idle.as_secs())]
    pub idle_timeout: u64,
    /// Datagrams from the game queued for one slow player.
    #[arg(long, default_value_t = Limits::default().queue)]
    pub queue: usize,
    /// Datagrams per second one player may send.
    #[arg(long, default_value_t = Limits::default().max_rate)]
    pub max_rate: u32,
    /// The party's name, shown with the wake lock.
    #[arg(long, default_value = "V-Sekai")]
    pub party: String,
    /// Seconds the wake lock outlives the last player.
    #[arg(long, default_value_t = 120)]
    pub grace: u64,
    /// Sandstorm's API socket, through which the wake lock is taken.
    #[arg(long, default_value = "/tmp/sandstorm-api")]
    pub sandstorm_api: PathBuf,
    /// Take no wake lock (outside a grain).
    #[arg(long)]
    pub no_wake_lock: bool,
}

impl Args {
    pub fn options(&self) -> Options {
        Options {
            game_port: self.game_port,
            mode: self.mode,
            limits: Limits {
                max_datagram: self.max_datagram,
                max_players: self.max_players,
                idle: Duration::from_secs(self.idle_timeout.max(1)),
                queue: self.queue,
                max_rate: self.max_rate.max(1),
            },
            party: self.party.clone(),
            grace: Duration::from_secs(self.grace),
            sandstorm_api: (!self.no_wake_lock).then(|| self.sandstorm_api.clone()),
        }
    }
}
