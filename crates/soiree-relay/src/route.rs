//! Which route a connection asks for, read from its request head without consuming it (the
//! WebSocket handshake or the game's own server reads the same bytes afterwards).

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The longest request head the relay looks at.
const MAX_HEAD: usize = 16 * 1024;

pub struct Head {
    /// The path without its query.
    pub path: String,
    /// The player's address, when Sandstorm's gateway passes it (`X-Real-IP`).
    pub real_ip: Option<String>,
}

/// Peeks until the head's blank line and parses its request line and `X-Real-IP`; `Ok(None)`
/// when the peer closed without a byte (the supervisor's readiness probe).
pub async fn peek_head(stream: &TcpStream) -> Result<Option<Head>, String> {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut last = 0;
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.peek(&mut buf))
            .await
            .map_err(|_| "no request head within 10 s".to_string())?
            .map_err(|e| format!("cannot read the request: {e}"))?;
        if n == 0 && last == 0 {
            return Ok(None);
        }
        if n == 0 {
            return Err("closed before its request head".into());
        }
        if let Some(end) = find(&buf[..n], b"\r\n\r\n") {
            return parse(&buf[..end]).map(Some);
        }
        if n == MAX_HEAD {
            return Err(format!("request head over {MAX_HEAD} bytes"));
        }
        if n == last {
            // peek returns what is buffered at once: wait for more to arrive.
            stream
                .readable()
                .await
                .map_err(|e| format!("cannot read the request: {e}"))?;
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        last = n;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse(head: &[u8]) -> Result<Head, String> {
    let text = std::str::from_utf8(head).map_err(|_| "request head is not UTF-8".to_string())?;
    let mut lines = text.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let mut parts = request.split(' ');
    let (Some(_method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(format!("bad request line {request:?}"));
    };
    let path = target.split('?').next().unwrap_or_default().to_string();
    let real_ip = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("x-real-ip"))
        .map(|(_, v)| v.trim().to_string());
    Ok(Head { path, real_ip })
}

/// Answers a plain HTTP error and closes.
pub async fn refuse(mut stream: TcpStream, status: u16, why: &str) {
    let reason = match status {
        400 => "Bad Request",
        404 => "Not Found",
        502 => "Bad Gateway",
        _ => "Service Unavailable",
    };
    let body = format!("{why}\n");
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_and_real_ip_are_read() {
        let h = parse(b"GET /.soiree/relay?x=1 HTTP/1.1\r\nHost: sandbox\r\nx-real-ip: 203.0.113.9").unwrap();
        assert_eq!(h.path, "/.soiree/relay");
        assert_eq!(h.real_ip.as_deref(), Some("203.0.113.9"));
        assert!(parse(b"GARBAGE").is_err());
    }
}
