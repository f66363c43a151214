//! WebSocket through a grain: the browser's handshake is answered by the gateway, the app's by
//! the bridge (`openWebSocket`), and raw protocol bytes flow between them unchanged — browser
//! frames reach the app as sent, as Sandstorm's gateway passes them.

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};
use soiree_schema::util_capnp::byte_stream;
use soiree_schema::web_session_capnp::web_session::{self, web_socket_stream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::request::ContextIn;
use crate::response::{self, Body, HostKind};
use crate::streams::{BodySink, SocketSink};

/// RFC 6455's key suffix.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Is this an upgrade to WebSocket?
pub fn is_upgrade(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(hyper::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

pub fn accept_key(key: &str) -> String {
    let digest = Sha1::digest(format!("{key}{WS_GUID}").as_bytes());
    data_encoding::BASE64.encode(&digest)
}

pub async fn open(
    session: &web_session::Client,
    mut req: Request<Incoming>,
    path: String,
    host: HostKind,
) -> Response<Body> {
    let Some(key) = req
        .headers()
        .get("sec-websocket-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return response::text(
            StatusCode::BAD_REQUEST,
            "WebSocket upgrade without Sec-WebSocket-Key\n",
        );
    };
    let protocols: Vec<String> = req
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
        .filter(|p| !p.is_empty())
        .collect();
    let ctx = ContextIn::read(req.headers(), host);
    let upgrade = hyper::upgrade::on(&mut req);
    let (to_browser, mut from_app) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
    let client_stream: web_socket_stream::Client = capnp_rpc::new_client(SocketSink { tx: to_browser });
    let (sink, _rx) = BodySink::new();
    let unused_body: byte_stream::Client = capnp_rpc::new_client(sink);
    let mut r = session.open_web_socket_request();
    {
        let mut p = r.get();
        p.set_path(&path);
        ctx.fill(p.reborrow().init_context(), unused_body);
        let mut l = p.reborrow().init_protocol(protocols.len() as u32);
        for (i, proto) in protocols.iter().enumerate() {
            l.set(i as u32, proto);
        }
        p.set_client_stream(client_stream);
    }
    let answer = match r.send().promise.await {
        Ok(a) => a,
        Err(e) => {
            return response::text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("ERROR: the grain refused the WebSocket: {e}\n"),
            )
        }
    };
    let (server_stream, chosen) = match answer.get().and_then(|a| {
        let chosen: Vec<String> = a
            .get_protocol()?
            .iter()
            .filter_map(|p| p.ok().and_then(|p| p.to_string().ok()))
            .collect();
        Ok((a.get_server_stream()?, chosen))
    }) {
        Ok(x) => x,
        Err(e) => return response::text(StatusCode::INTERNAL_SERVER_ERROR, format!("ERROR: {e}\n")),
    };

    tokio::task::spawn_local(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let (mut rd, mut wr) = tokio::io::split(TokioIo::new(upgraded));
        let writer = tokio::task::spawn_local(async move {
            while let Some(b) = from_app.recv().await {
                if wr.write_all(&b).await.is_err() {
                    break;
                }
            }
            let _ = wr.shutdown().await;
        });
        let mut buf = vec![0u8; 4096];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut s = server_stream.send_bytes_request();
                    s.get().set_message(&buf[..n]);
                    if s.send().await.is_err() {
                        break;
                    }
                }
            }
        }
        // Dropping the app's stream closes its connection; the writer ends with it.
        drop(server_stream);
        let _ = writer.await;
    });

    let mut resp = Response::new(response::full(Bytes::new()));
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(
        hyper::header::UPGRADE,
        hyper::header::HeaderValue::from_static("websocket"),
    );
    h.insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("Upgrade"),
    );
    if let Ok(v) = accept_key(&key).parse() {
        h.insert("sec-websocket-accept", v);
    }
    if let Some(Ok(v)) = chosen.first().map(|p| p.parse()) {
        h.insert("sec-websocket-protocol", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn accept_key_is_rfc_6455s() {
        // The example of RFC 6455 §1.3.
        assert_eq!(
            super::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
