//! A request's forwarder: `127.0.0.1:PORT` inside the grain, where a program that expects its
//! API locally (the game server's Uro at `127.0.0.1:4000`) is answered by the granted grain.
//! Each request goes through the bridge's proxy with `Authorization: Bearer <cap>`; the path
//! under the forwarded prefix becomes the path under the capability. Bodies in both directions
//! are copied as they come. Until the link exists it answers 503 saying what to grant.

use std::io::{BufReader, Write};
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
    let mut up = match TcpStream::connect(proxy) {
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
    let mut out = format!(
        "{} http://{}/{rest} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {cap}\r\nConnection: close\r\n",
        head.method, request.name, request.name
    );
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
        return http1::text(&mut w, 502, "the bridge's proxy closed the connection\n");
    }
    let client = r.into_inner();
    if let (Ok(mut from), Ok(mut to)) = (client.try_clone(), up.try_clone()) {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
        });
    }
    let _ = std::io::copy(&mut up, &mut w);
    // The answer is complete: the proxy closes after it. Ending both sides also ends the body
    // copy, which may be waiting on a client that keeps its connection open.
    let _ = w.flush();
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.shutdown(Shutdown::Both);
}
