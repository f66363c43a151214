//! The `soiree-tunnel` program players run beside their game.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use soiree_tunnel::{status, Endpoint, Options};

/// Lets an unmodified game reach a V-Sekai party's Server grain: point the game at the local
/// UDP address; each game client gets its own WebSocket to the grain's relay. Ctrl-C stops.
#[derive(Parser, Debug)]
#[command(name = "soiree-tunnel", version)]
struct Args {
    /// The Server grain's API URL with its token, as the host shared it
    /// (`https://api-….host/.sandstorm-token/TOKEN/`).
    url: String,
    /// The local UDP address the game connects to.
    #[arg(long, default_value = "127.0.0.1:7777")]
    listen: SocketAddr,
    /// The Uro grain's API URL with its token: its API is served on `--uro-listen` for the game
    /// client, whose `Authorization` is carried as `X-Sandstorm-App-Authorization`.
    #[arg(long)]
    uro: Option<String>,
    /// Where the game client reaches Uro (its Uro host) when `--uro` is given.
    #[arg(long, default_value = "127.0.0.1:4000")]
    uro_listen: SocketAddr,
    /// Seconds a game client may send nothing before its WebSocket is closed.
    #[arg(long, default_value_t = 60)]
    idle: u64,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    // rustls needs its cryptography chosen once per process, for wss:// and https:// alike.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let relay = match Endpoint::from_api_url(&args.url) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("soiree-tunnel: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let uro = match args
        .uro
        .as_deref()
        .map(soiree_tunnel::uro::Upstream::from_api_url)
    {
        None => None,
        Some(Ok(u)) => Some(u),
        Some(Err(e)) => {
            eprintln!("soiree-tunnel: --uro: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("soiree-tunnel: cannot start: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let udp = match tokio::net::UdpSocket::bind(args.listen).await {
            Ok(u) => u,
            Err(e) => {
                eprintln!("soiree-tunnel: cannot listen on UDP {}: {e}", args.listen);
                return std::process::ExitCode::from(1);
            }
        };
        eprintln!(
            "soiree-tunnel: point the game at {} (UDP); relay {}",
            udp.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            relay.url
        );
        let uro_task = match uro {
            None => None,
            Some(upstream) => match tokio::net::TcpListener::bind(args.uro_listen).await {
                Ok(l) => {
                    eprintln!(
                        "soiree-tunnel: Uro API on http://{}/ (the game's Uro host)",
                        l.local_addr().map(|a| a.to_string()).unwrap_or_default()
                    );
                    Some(tokio::task::spawn_local(soiree_tunnel::uro::serve(l, upstream)))
                }
                Err(e) => {
                    eprintln!("soiree-tunnel: cannot listen on {} for Uro: {e}", args.uro_listen);
                    return std::process::ExitCode::from(1);
                }
            },
        };
        let stats = status::Stats::default();
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let opts = Options {
            relay,
            idle: Duration::from_secs(args.idle.max(1)),
        };
        let reporter = tokio::task::spawn_local(status::report(stats.clone(), Duration::from_secs(10)));
        let tunnel = tokio::task::spawn_local(soiree_tunnel::run(udp, opts, stats, stop));
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
        let _ = tunnel.await;
        reporter.abort();
        if let Some(t) = uro_task {
            t.abort();
        }
        eprintln!("soiree-tunnel: stopped");
        std::process::ExitCode::SUCCESS
    })
}
