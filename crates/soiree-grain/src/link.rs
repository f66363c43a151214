//! A link's loopback end outside Sandstorm. A package's program reaches another package at
//! `127.0.0.1:PORT` (its recipe's `[[links]]`); where no Powerbox grants the link, the
//! deployment says where it leads in `SOIREE_LINK_<REQUEST>` (`http://uro:8000/api/v1/`, from
//! `build --target compose|helm`) and this forwards each HTTP request there, its path put under
//! that URL's path as an ApiSession puts it under the offer's path. `tcp://HOST:PORT` forwards
//! plain TCP instead (`--forward`: a database split out of the package's Pod).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use crate::config::Link;
use crate::ready::HttpUrl;

pub const ENV_PREFIX: &str = "SOIREE_LINK_";
/// A request head larger than this is refused (431).
const MAX_HEAD: usize = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// `SOIREE_LINK_URO` for request `uro` (`-` becomes `_`).
pub fn env_name(request: &str) -> String {
    format!("{ENV_PREFIX}{}", request.to_ascii_uppercase().replace('-', "_"))
}

/// Where a link leads: an HTTP base URL (requests rewritten under its path) or, for
/// `tcp://HOST:PORT`, a plain TCP address (a database protocol, bytes copied as they are).
enum Target {
    Http(HttpUrl),
    Tcp(HttpUrl),
}

/// Listens on `127.0.0.1:link.port` and forwards every connection to `upstream` from threads
/// of its own, for the life of the process.
pub fn serve(link: &Link, upstream: &str) -> Result<(), String> {
    let target = match upstream.strip_prefix("tcp://") {
        Some(addr) => Target::Tcp(HttpUrl::parse(&format!("http://{addr}"))?),
        None => Target::Http(HttpUrl::parse(upstream)?),
    };
    let listener = TcpListener::bind(("127.0.0.1", link.port)).map_err(|e| {
        format!(
            "link `{}`: cannot listen on 127.0.0.1:{}: {e}",
            link.request, link.port
        )
    })?;
    let name = link.request.clone();
    std::thread::Builder::new()
        .name(format!("link {name}"))
        .spawn(move || {
            let target = std::sync::Arc::new(target);
            for client in listener.incoming().flatten() {
                let (target, name) = (target.clone(), name.clone());
                let _ = std::thread::Builder::new()
                    .name(format!("link {name}"))
                    .spawn(move || {
                        let done = match &*target {
                            Target::Http(t) => forward(client, t),
                            Target::Tcp(t) => copy_both_ways(client, t),
                        };
                        if let Err(e) = done {
                            crate::log::say(&format!("link `{name}`: {e}"));
                        }
                    });
            }
        })
        .map_err(|e| format!("link `{}`: cannot start its thread: {e}", link.request))?;
    Ok(())
}

/// One connection: its request head rewritten (path under the target's, `Host` the target's,
/// `Connection: close` so that every request on it is rewritten: one per connection), then the
/// bytes copied both ways.
fn forward(mut client: TcpStream, target: &HttpUrl) -> Result<(), String> {
    client
        .set_read_timeout(Some(HEAD_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let (head, rest) = match read_head(&mut client) {
        Ok(v) => v,
        Err((status, why)) => return answer(&mut client, status, &why),
    };
    let Some(new_head) = rewrite(&head, target) else {
        return answer(
            &mut client,
            "400 Bad Request",
            "not an HTTP/1 request with a path",
        );
    };
    let mut upstream = match connect(target) {
        Ok(s) => s,
        Err(why) => return answer(&mut client, "502 Bad Gateway", &why),
    };
    client.set_read_timeout(None).map_err(|e| e.to_string())?;
    upstream
        .write_all(new_head.as_bytes())
        .and_then(|()| upstream.write_all(&rest))
        .map_err(|e| e.to_string())?;
    splice(client, upstream)
}

fn connect(target: &HttpUrl) -> Result<TcpStream, String> {
    target
        .addr()
        .and_then(|a| TcpStream::connect_timeout(&a, CONNECT_TIMEOUT))
        .map_err(|e| format!("cannot reach {}:{}: {e}", target.host, target.port))
}

/// A TCP connection joined to one to `target`, bytes copied both ways until each side ends.
fn copy_both_ways(client: TcpStream, target: &HttpUrl) -> Result<(), String> {
    splice(client, connect(target)?)
}

/// Copies `a` to `b` and `b` to `a` until both directions end.
fn splice(mut a: TcpStream, mut b: TcpStream) -> Result<(), String> {
    let (mut a_in, mut b_out) = (
        a.try_clone().map_err(|e| e.to_string())?,
        b.try_clone().map_err(|e| e.to_string())?,
    );
    let there = std::thread::spawn(move || {
        let _ = std::io::copy(&mut a_in, &mut b_out);
        let _ = b_out.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut b, &mut a);
    let _ = a.shutdown(Shutdown::Both);
    let _ = b.shutdown(Shutdown::Both);
    let _ = there.join();
    Ok(())
}

/// The request head (up to its blank line) and whatever came after it.
fn read_head(client: &mut TcpStream) -> Result<(String, Vec<u8>), (&'static str, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return String::from_utf8(buf)
                .map(|h| (h, rest))
                .map_err(|_| ("400 Bad Request", "the request head is not UTF-8".into()));
        }
        if buf.len() > MAX_HEAD {
            return Err((
                "431 Request Header Fields Too Large",
                "request head over 64 KiB".into(),
            ));
        }
        match client.read(&mut chunk) {
            Ok(0) => {
                return Err((
                    "400 Bad Request",
                    "the connection ended in the request head".into(),
                ))
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(("408 Request Timeout", e.to_string())),
        }
    }
}

/// The head as the target must see it, or `None` when it is not `METHOD /path HTTP/1.x`.
fn rewrite(head: &str, target: &HttpUrl) -> Option<String> {
    let mut lines = head.split("\r\n");
    let mut parts = lines.next()?.split(' ');
    let (method, path, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !path.starts_with('/') || !version.starts_with("HTTP/1.") {
        return None;
    }
    let base = target.path.split('?').next().unwrap_or("").trim_end_matches('/');
    let host = if target.host.contains(':') {
        format!("[{}]", target.host)
    } else {
        target.host.clone()
    };
    let mut out = format!(
        "{method} {base}{path} {version}\r\nHost: {host}:{}\r\nConnection: close\r\n",
        target.port
    );
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
        if !matches!(
            name.as_str(),
            "host" | "connection" | "keep-alive" | "proxy-connection"
        ) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    Some(out)
}

fn answer(client: &mut TcpStream, status: &str, why: &str) -> Result<(), String> {
    let body = format!("soiree-grain link: {why}\n");
    let _ = write!(
        client,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    Err(why.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puts_the_path_under_the_targets_and_closes_the_connection() {
        let t = HttpUrl::parse("http://uro:8000/api/v1/").unwrap();
        let head = "POST /shards?x=1 HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(
            rewrite(head, &t).unwrap(),
            "POST /api/v1/shards?x=1 HTTP/1.1\r\nHost: uro:8000\r\nConnection: close\r\nContent-Length: 2\r\n\r\n"
        );
        assert!(rewrite("GET http://x/ HTTP/1.1\r\n\r\n", &t).is_none());
        assert!(rewrite("GET / SPDY\r\n\r\n", &t).is_none());
        assert_eq!(env_name("players-udp"), "SOIREE_LINK_PLAYERS_UDP");
    }
}
