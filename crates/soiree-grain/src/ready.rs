//! Readiness checks: a loopback TCP port that accepts, an HTTP URL that answers 2xx or 3xx, a
//! Unix socket that accepts, a file that exists, a line in the service's output (which the log
//! thread watches for). Each probe is bounded in time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::config::Ready;

/// How long one probe may take; the supervisor probes again until the service's timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// An `http://host[:port]/path` URL, the only kind the check speaks (HTTP/1.0, no TLS).
#[derive(Debug, PartialEq, Eq)]
pub struct HttpUrl {
    pub host: String,
    pub port: u16,
    pub path: String,
}

impl HttpUrl {
    pub fn parse(url: &str) -> Result<HttpUrl, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("readiness URL `{url}` must start with http:// (no TLS inside a grain)")
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            // `[::1]:80`, `127.0.0.1:80`, `localhost:80`; a bare `[::1]` has its colons inside brackets.
            Some((h, p)) if !p.contains(']') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("readiness URL `{url}` has a bad port `{p}`"))?,
            ),
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("readiness URL `{url}` has no host"));
        }
        Ok(HttpUrl {
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }

    /// The address to connect to. `localhost` is loopback without asking the resolver: a grain
    /// has no /etc/hosts unless the package ships one.
    pub(crate) fn addr(&self) -> std::io::Result<SocketAddr> {
        if self.host == "localhost" {
            return Ok(SocketAddr::from(([127, 0, 0, 1], self.port)));
        }
        (self.host.as_str(), self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other(format!("{} has no address", self.host)))
    }
}

/// One probe: `Ok(())` when the service is ready, otherwise what was seen. `log_seen` says
/// whether the service's output has had the line a `log` check waits for.
pub fn probe(check: &Ready, log_seen: bool) -> Result<(), String> {
    match check {
        Ready::Log(_) if log_seen => Ok(()),
        Ready::Log(_) => Err("no such line in its output yet".into()),
        Ready::Tcp(port) => {
            TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], *port)), PROBE_TIMEOUT)
                .map(drop)
                .map_err(|e| e.to_string())
        }
        Ready::Http(url) => http(url),
        Ready::Unix(path) => UnixStream::connect(path).map(drop).map_err(|e| e.to_string()),
        Ready::File(path) => {
            if Path::new(path).exists() {
                Ok(())
            } else {
                Err("does not exist yet".into())
            }
        }
    }
}

fn http(url: &str) -> Result<(), String> {
    let u = HttpUrl::parse(url)?;
    let addr = u.addr().map_err(|e| e.to_string())?;
    let mut s = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(PROBE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(PROBE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let host = if u.host.contains(':') {
        format!("[{}]", u.host)
    } else {
        u.host.clone()
    };
    write!(
        s,
        "GET {} HTTP/1.0\r\nHost: {host}:{}\r\nUser-Agent: soiree-grain\r\n\r\n",
        u.path, u.port
    )
    .map_err(|e| e.to_string())?;
    // Only the status line matters: `HTTP/1.x NNN reason`.
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 1024 {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) => return Err(e.to_string()),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let line = line.lines().next().unwrap_or("");
    let status = line
        .strip_prefix("HTTP/")
        .and_then(|r| r.split_whitespace().nth(1))
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| format!("not an HTTP response: {line:?}"))?;
    if (200..400).contains(&status) {
        Ok(())
    } else {
        Err(format!("answered {status}"))
    }
}

/// The check as people read it, for messages.
pub fn describe(check: &Ready) -> String {
    match check {
        Ready::Tcp(p) => format!("tcp port {p}"),
        Ready::Http(u) => format!("GET {u}"),
        Ready::Unix(p) => format!("unix socket {p}"),
        Ready::File(p) => format!("file {p}"),
        Ready::Log(t) => format!("a line with {t:?} in its output"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_urls() {
        let u = |host: &str, port, path: &str| HttpUrl {
            host: host.into(),
            port,
            path: path.into(),
        };
        assert_eq!(
            HttpUrl::parse("http://127.0.0.1:8080/health?ready=1"),
            Ok(u("127.0.0.1", 8080, "/health?ready=1"))
        );
        assert_eq!(HttpUrl::parse("http://localhost"), Ok(u("localhost", 80, "/")));
        assert_eq!(HttpUrl::parse("http://[::1]:81/x"), Ok(u("::1", 81, "/x")));
        assert_eq!(HttpUrl::parse("http://[::1]/x"), Ok(u("::1", 80, "/x")));
        assert!(HttpUrl::parse("https://x/").is_err());
        assert!(HttpUrl::parse("http://x:99999/").is_err());
        assert!(HttpUrl::parse("http:///").is_err());
    }
}
