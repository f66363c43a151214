//! A request's forwarder: `127.0.0.1:PORT` inside the grain, where a program that expects its
//! API locally (the game server's Uro at `127.0.0.1:4000`) is answered by the granted grain.
//! Each request goes through the bridge's proxy with `Authorization: Bearer <cap>`; the path
//! under the forwarded prefix becomes the path under the capability. Bodies in both directions
//! are copied as they come. Until the link exists it answers 503 saying what to grant.
//! Outside Sandstorm (a container of `build --target compose|helm`) the deployment names the
//! offering package's address in `SOIREE_LINK_<REQUEST>` instead, and requests go straight there.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};

use crate::config::LinkRequest;
use crate::http1;
use crate::links::Shared;

/// Headers that belong to this hop (or carry authority the program must not choose).
const HOP: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "authorization",
    "upgrade",
    "te",
];

pub fn serve(shared: &Shared, request: &LinkRequest, conn: TcpStream) {
    let Some(forward) = &request.forward else { return };
    let Ok(mut w) = conn.try_clone() else { return };
    let mut r = BufReader::new(conn);
    let head = match http1::read_head(&mut r) {
        Ok(h) => h,
        Err(e) => return http1::text(&mut w, 400, &format!("{e}\n")),
    };
    let Some(rest) = head.target.strip_prefix(&forward.path) else {
        return http1::text(
            &mut w,
            404,
            &format!(
                "this port reaches `{}` under {} only\n",
                request.name, forward.path
            ),
        );
    };
    let (mut up, mut out) = if let Some(target) = shared.direct.get(&request.name) {
        // No bridge and no cap: the deployment's network already limits who reaches whom.
        let up = match target.addr().and_then(TcpStream::connect) {
            Ok(s) => s,
            Err(e) => {
                return http1::text(
                    &mut w,
                    502,
                    &format!(
                        "cannot reach `{}` at {}:{}: {e}\n",
                        request.name, target.host, target.port
                    ),
                )
            }
        };
        let base = target.path.trim_end_matches('/');
        let out = format!(
            "{} {base}/{rest} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n",
            head.method, target.host, target.port
        );
        (up, out)
    } else {
        let Some(cap) = shared.store.get(&request.name) else {
            return http1::text(
                &mut w,
                503,
                &format!(
                    "`{}` is not linked yet: grant its request `{}` ({}) on the grain's page, {}\n",
                    shared.package,
                    request.name,
                    request.label,
                    crate::links::PREFIX
                ),
            );
        };
        let Some(proxy) = &shared.proxy else {
            return http1::text(
                &mut w,
                503,
                "this grain runs without Sandstorm's HTTP bridge (no http_proxy): a link cannot be used here\n",
            );
        };
        let up = match TcpStream::connect(proxy) {
            Ok(s) => s,
            Err(e) => {
                return http1::text(
                    &mut w,
                    502,
                    &format!("cannot reach the bridge's proxy at {proxy}: {e}\n"),
                )
            }
        };
        // The proxy ignores the host; the name only makes logs readable.
        let out = format!(
            "{} http://{}/{rest} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {cap}\r\nConnection: close\r\n",
            head.method, request.name, request.name
        );
        (up, out)
    };
    for (n, v) in &head.headers {
        if !HOP.iter().any(|h| n.eq_ignore_ascii_case(h)) {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    out.push_str("\r\n");
    // The body: what was read with the head, then the rest as it comes.
    let early = r.buffer().to_vec();
    if up
        .write_all(out.as_bytes())
        .and_then(|()| up.write_all(&early))
        .is_err()
    {
        return http1::text(&mut w, 502, "the upstream closed the connection\n");
    }
    let client = r.into_inner();
    if let (Ok(mut from), Ok(mut to)) = (client.try_clone(), up.try_clone()) {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
        });
    }
    let no_body = head.method == "HEAD";
    if copy_answer(&mut BufReader::new(&up), &mut w, no_body).is_err() {
        // Nothing more can be said: the answer may be half sent.
    }
    // The answer is complete. Ending both sides also ends the body copy, which may be waiting
    // on a client that keeps its connection open.
    let _ = w.flush();
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.shutdown(Shutdown::Both);
}

/// Copies one answer by its own framing (the proxy may keep its side open after it): the head,
/// then a `Content-Length` body, a chunked one chunk by chunk, or else what comes until the end.
fn copy_answer(r: &mut impl BufRead, w: &mut impl Write, no_body: bool) -> std::io::Result<()> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    w.write_all(line.as_bytes())?;
    if (100..200).contains(&status) {
        // `100 Continue` (curl's `Expect`): its head as it is, then the real answer.
        loop {
            line.clear();
            if r.read_line(&mut line)? == 0 {
                return Ok(());
            }
            w.write_all(line.as_bytes())?;
            if line.trim_end().is_empty() {
                break;
            }
        }
        return copy_answer(r, w, no_body);
    }
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            if n.eq_ignore_ascii_case("connection") {
                continue;
            }
            if n.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse::<u64>().ok();
            }
            if n.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.to_ascii_lowercase().contains("chunked");
            }
        }
        w.write_all(line.as_bytes())?;
    }
    w.write_all(b"Connection: close\r\n\r\n")?;
    if no_body || status == 204 || status == 304 {
        return Ok(());
    }
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line)?;
            w.write_all(line.as_bytes())?;
            let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::other("a bad chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    line.clear();
                    if r.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        w.write_all(b"\r\n")?;
                        return Ok(());
                    }
                    w.write_all(line.as_bytes())?;
                }
            }
            std::io::copy(&mut r.take(size + 2), w)?;
        }
    }
    match length {
        Some(n) => std::io::copy(&mut r.take(n), w)?,
        None => std::io::copy(r, w)?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_an_answer_by_its_framing_and_stops() {
        for (from, want) in [
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhelloNEXT",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nNEXT",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            ),
            (
                "HTTP/1.1 204 No Content\r\n\r\nNEXT",
                "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
            ),
            ("HTTP/1.0 200 OK\r\n\r\nto the end", "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nto the end"),
            (
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokNEXT",
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            ),
        ] {
            let mut out = Vec::new();
            copy_answer(&mut from.as_bytes(), &mut out, false).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }
}
