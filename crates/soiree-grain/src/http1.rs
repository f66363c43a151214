//! The little HTTP/1.1 the link service and the forwarder speak: a request head read from a
//! connection, whole answers written with `Connection: close`, and a call through the bridge's
//! proxy. Only what nginx, browsers and the bridge send here; no keep-alive.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A request head is refused above this size (nginx's own default limit is 8 KiB a line).
const MAX_HEAD: usize = 64 * 1024;
/// A body the link service reads whole (a claim is a token in JSON).
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug)]
pub struct Head {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_length(&self) -> Option<usize> {
        self.header("content-length").and_then(|v| v.trim().parse().ok())
    }
}

/// Reads a request head (request line and headers, up to the empty line).
pub fn read_head(r: &mut impl BufRead) -> Result<Head, String> {
    let mut read = 0;
    let mut line = String::new();
    let mut next_line = |line: &mut String| -> Result<(), String> {
        line.clear();
        let n = r
            .take((MAX_HEAD - read) as u64)
            .read_line(line)
            .map_err(|e| format!("cannot read the request: {e}"))?;
        read += n;
        if n == 0 || !line.ends_with('\n') {
            return Err("the request ended inside its head".into());
        }
        Ok(())
    };
    next_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("not an HTTP request line: {:?}", line.trim_end()));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not HTTP/1: {version}"));
    }
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    loop {
        next_line(&mut line)?;
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok(Head {
        method,
        target,
        headers,
    })
}

/// Reads a body of `Content-Length` bytes, at most `MAX_BODY`.
pub fn read_body(r: &mut impl Read, head: &Head) -> Result<Vec<u8>, String> {
    let n = head.content_length().unwrap_or(0);
    if n > MAX_BODY {
        return Err(format!("a body of {n} bytes is more than this service reads"));
    }
    let mut body = vec![0; n];
    r.read_exact(&mut body)
        .map_err(|e| format!("cannot read the body: {e}"))?;
    Ok(body)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Writes a whole answer and ends the exchange (errors mean the peer left: nothing to do).
pub fn answer(w: &mut impl Write, status: u16, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        reason(status),
        body.len()
    );
    let _ = w.write_all(head.as_bytes());
    let _ = w.write_all(body);
    let _ = w.flush();
}

pub fn text(w: &mut impl Write, status: u16, body: &str) {
    answer(w, status, "text/plain; charset=utf-8", body.as_bytes());
}

/// The bridge's outbound proxy (`http_proxy`, which the bridge sets for the app it starts):
/// `127.0.0.1:15239` as `host:port`, or `None` outside a grain.
pub fn proxy_from_env() -> Option<String> {
    let v = std::env::var("http_proxy")
        .or_else(|_| std::env::var("HTTP_PROXY"))
        .ok()?;
    let rest = v.strip_prefix("http://")?;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| host.to_string())
}

/// What the proxy answered.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// One request through the proxy at `proxy` to the absolute `url`, read to its end.
pub fn call(
    proxy: &str,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Reply, String> {
    let mut s =
        TcpStream::connect(proxy).map_err(|e| format!("cannot reach the bridge's proxy at {proxy}: {e}"))?;
    let _ = s.set_read_timeout(Some(Duration::from_secs(60)));
    let mut head = format!(
        "{method} {url} HTTP/1.1\r\nHost: http-bridge\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())
        .and_then(|()| s.write_all(body))
        .map_err(|e| format!("cannot write to the bridge's proxy: {e}"))?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)
        .map_err(|e| format!("no answer from the bridge's proxy: {e}"))?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("the bridge's proxy answered {:?}", line.trim_end()))?;
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        r.read_line(&mut line)
            .map_err(|e| format!("the bridge's proxy's answer broke off: {e}"))?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            if n.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse::<usize>().ok();
            } else if n.eq_ignore_ascii_case("transfer-encoding")
                && v.to_ascii_lowercase().contains("chunked")
            {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    let broke = |e: std::io::Error| format!("the bridge's proxy's answer broke off: {e}");
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line).map_err(broke)?;
            let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| format!("a bad chunk size {:?} from the bridge's proxy", line.trim()))?;
            if n == 0 || body.len() + n > 16 * MAX_BODY {
                break;
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).map_err(broke)?;
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = length {
        body.resize(n.min(16 * MAX_BODY), 0);
        r.read_exact(&mut body).map_err(broke)?;
    } else {
        r.take(16 * MAX_BODY as u64)
            .read_to_end(&mut body)
            .map_err(broke)?;
    }
    Ok(Reply { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_head_as_nginx_sends_it() {
        let mut r = &b"POST /.soiree/links/uro/claim HTTP/1.0\r\nHost: 127.0.0.1:15240\r\nX-Sandstorm-Session-Id: 3\r\nContent-Length: 4\r\n\r\nbody"[..];
        let head = read_head(&mut r).unwrap();
        assert_eq!(
            (head.method.as_str(), head.target.as_str()),
            ("POST", "/.soiree/links/uro/claim")
        );
        assert_eq!(head.header("x-sandstorm-session-id"), Some("3"));
        assert_eq!(read_body(&mut r, &head).unwrap(), b"body");
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        for bad in [
            &b"GET /\r\n\r\n"[..],
            b"GET / SPDY/3\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\n",
        ] {
            assert!(read_head(&mut &bad[..]).is_err(), "{bad:?}");
        }
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_HEAD));
        assert!(read_head(&mut long.as_bytes()).is_err());
    }
}
