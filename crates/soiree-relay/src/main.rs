//! The `soiree-relay` program a Server grain runs (the `game-relay` recipe).

use clap::Parser;
use soiree_relay::args::Args;

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("relay: cannot start: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("relay: cannot listen on {}: {e}", args.listen);
                return std::process::ExitCode::from(1);
            }
        };
        let opts = args.options();
        let at = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
        eprintln!(
            "relay: listening on {at} for the game on 127.0.0.1:{} ({:?})",
            opts.game_port, opts.mode
        );
        tokio::select! {
            () = soiree_relay::serve(listener, opts) => {}
            _ = tokio::signal::ctrl_c() => {}
            () = terminated() => {}
        }
        std::process::ExitCode::SUCCESS
    })
}

/// The supervisor stops services with SIGTERM.
async fn terminated() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
