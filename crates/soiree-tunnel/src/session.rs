//! One local source address (one game client): its own WebSocket to the relay, reconnected with
//! backoff, each datagram one binary message, pinged for the round-trip time.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::status::Stats;
use crate::Options;

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
const PING_EVERY: Duration = Duration::from_secs(2);

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn connect(opts: &Options) -> Result<Ws, String> {
    let tcp = TcpStream::connect((opts.relay.dial_host.as_str(), opts.relay.port))
        .await
        .map_err(|e| format!("{}:{}: {e}", opts.relay.dial_host, opts.relay.port))?;
    let _ = tcp.set_nodelay(true);
    let mut request = opts
        .relay
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        crate::PASSTHROUGH.0,
        HeaderValue::from_static(crate::PASSTHROUGH.1),
    );
    let (ws, _) = tokio_tungstenite::client_async_tls_with_config(request, tcp, None, None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ws)
}

pub async fn run(
    from: SocketAddr,
    mut rx: mpsc::Receiver<Vec<u8>>,
    udp: Rc<UdpSocket>,
    opts: Rc<Options>,
    stats: Stats,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let mut ws = tokio::select! {
            r = connect(&opts) => match r {
                Ok(ws) => ws,
                Err(e) => {
                    eprintln!("soiree-tunnel: {from}: cannot reach the relay ({e}); again in {:.1} s", backoff.as_secs_f64());
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        backoff = FIRST_BACKOFF;
        stats.up();
        let mut ping = tokio::time::interval(PING_EVERY);
        let mut pinged: Option<(u64, Instant)> = None;
        let mut seq: u64 = 0;
        let mut last_local = Instant::now();
        let ended = loop {
            tokio::select! {
                d = rx.recv() => match d {
                    Some(d) => {
                        last_local = Instant::now();
                        if let Err(e) = ws.send(Message::Binary(d.into())).await {
                            break Some(format!("lost the relay: {e}"));
                        }
                    }
                    None => break None,
                },
                m = ws.next() => match m {
                    Some(Ok(Message::Binary(d))) => {
                        let _ = udp.send_to(&d, from).await;
                    }
                    Some(Ok(Message::Pong(p))) => {
                        if let Some((n, at)) = pinged {
                            if p.as_ref() == n.to_be_bytes() {
                                stats.rtt(at.elapsed());
                                pinged = None;
                            }
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let why = frame.map(|f| format!("{} ({})", f.reason, u16::from(f.code))).unwrap_or_default();
                        break Some(format!("the relay closed the connection {why}"));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break Some(format!("lost the relay: {e}")),
                    None => break Some("the relay closed the connection".into()),
                },
                _ = ping.tick() => {
                    if last_local.elapsed() > opts.idle {
                        break None;
                    }
                    seq += 1;
                    pinged = Some((seq, Instant::now()));
                    if let Err(e) = ws.send(Message::Ping(seq.to_be_bytes().to_vec().into())).await {
                        break Some(format!("lost the relay: {e}"));
                    }
                }
                _ = stop.changed() => {
                    let _ = ws.close(None).await;
                    stats.down();
                    return;
                }
            }
        };
        stats.down();
        match ended {
            None => {
                // The game client went quiet (or away): free its WebSocket.
                let _ = ws.close(None).await;
                return;
            }
            Some(why) => eprintln!("soiree-tunnel: {from}: {why}; reconnecting"),
        }
    }
}
