//! `soiree-grain --agones NAME…`: an Agones GameServer's health through the SDK sidecar's
//! REST port. Once every named service is ready (the markers of `ready_mark.rs`, written by the
//! supervisors of the Pod's other containers) it posts `/ready`, then `/health` while they stay
//! ready; Agones restarts a GameServer whose health stops.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Where Agones tells its containers the SDK's REST port is, and its default.
pub const PORT_ENV: &str = "AGONES_SDK_HTTP_PORT";
const DEFAULT_PORT: u16 = 9358;
/// Health is reported this often: well inside the default `health.periodSeconds` of 5.
const EVERY: Duration = Duration::from_secs(2);

/// Runs until SIGTERM or SIGINT.
pub fn report(var_dir: &Path, names: &[String]) -> Result<(), String> {
    let port = match std::env::var(PORT_ENV) {
        Ok(p) => p.parse().map_err(|_| format!("{PORT_ENV}={p} is not a port"))?,
        Err(_) => DEFAULT_PORT,
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, stop.clone()).map_err(|e| e.to_string())?;
    }
    let mut told_ready = false;
    while !stop.load(Ordering::SeqCst) {
        let waiting = crate::ready_mark::not_ready(var_dir, names);
        if waiting.is_empty() {
            let path = if told_ready { "/health" } else { "/ready" };
            match post(port, path) {
                Ok(()) if !told_ready => {
                    crate::log::say("agones: the game server is ready");
                    told_ready = true;
                }
                Ok(()) => {}
                Err(e) => crate::log::say(&format!("agones: POST {path}: {e}")),
            }
        }
        std::thread::sleep(EVERY);
    }
    Ok(())
}

/// `POST PATH` with an empty JSON body to the SDK on loopback; a 2xx answer is success.
fn post(port: u16, path: &str) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
    )
    .map_err(|e| e.to_string())?;
    let mut head = [0u8; 64];
    let n = s.read(&mut head).map_err(|e| e.to_string())?;
    let line = String::from_utf8_lossy(&head[..n]);
    match line.split_whitespace().nth(1) {
        Some(code) if code.starts_with('2') => Ok(()),
        _ => Err(format!("answered {:?}", line.lines().next().unwrap_or(""))),
    }
}
