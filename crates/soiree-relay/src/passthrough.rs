//! The plain WebSocket route: a Godot game that speaks WebSocket itself gets the connection as
//! it came, handshake and all, on its own TCP port; the relay copies bytes and counts the player.

use tokio::net::TcpStream;

use crate::{route, wake, Options};

/// `tag` names the player in the log; the relay has made sure there is room for them.
pub async fn run(mut stream: TcpStream, tag: &str, opts: &Options, players: wake::Players) {
    let mut game = match TcpStream::connect(("127.0.0.1", opts.game_port)).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!(
                "relay: {tag} the game's WebSocket port 127.0.0.1:{} refuses: {e}",
                opts.game_port
            );
            route::refuse(stream, 502, "the game is not listening").await;
            return;
        }
    };
    let _ = game.set_nodelay(true);
    let _seat = players.join();
    eprintln!(
        "relay: {tag} joined over WebSocket to 127.0.0.1:{} ({} playing)",
        opts.game_port,
        players.count()
    );
    let copied = tokio::io::copy_bidirectional(&mut stream, &mut game).await;
    drop(_seat);
    match copied {
        Ok((up, down)) => eprintln!(
            "relay: {tag} left ({up} bytes in, {down} out; {} playing)",
            players.count()
        ),
        Err(e) => eprintln!("relay: {tag} left: {e} ({} playing)", players.count()),
    }
}
