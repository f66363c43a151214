//! The echo app the tests' grains run behind Sandstorm's real bridge: this test binary again,
//! started inside the grain with `SOIREE_UP_ECHO=1` (each test file has an `echo_server` test
//! calling [`serve_if_asked`]). It echoes what it sees, streams, holds `stayAwake` wake locks,
//! claims Powerbox grants through the bridge's proxy, serves the grain side of a link
//! (`/.soiree/links/`), and uses or drops the capability a link gave it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::Answer;

pub const BODY_BYTES: usize = 5_000_000;
pub const BIG_RESPONSE: usize = 300_000;

pub fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// The echo app: run by the grain (the bridge's command) when `SOIREE_UP_ECHO` is set.
pub fn serve_if_asked() {
    if std::env::var_os("SOIREE_UP_ECHO").is_none() {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:8000").unwrap();
    eprintln!("echo listening");
    for s in l.incoming() {
        let Ok(s) = s else { continue };
        std::thread::spawn(move || serve_one(s));
    }
}

fn serve_one(s: TcpStream) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut w = s;
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.insert(n.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    if headers
        .get("upgrade")
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
    {
        let key = headers.get("sec-websocket-key").cloned().unwrap_or_default();
        let accept = {
            use sha1::Digest as _;
            let d = sha1::Sha1::digest(format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes());
            data_encoding::BASE64.encode(&d)
        };
        write!(
            w,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .unwrap();
        return websocket_echo(&mut r, &mut w);
    }
    let mut body = Vec::new();
    if let Some(n) = headers
        .get("content-length")
        .and_then(|n| n.parse::<usize>().ok())
    {
        body.resize(n, 0);
        r.read_exact(&mut body).unwrap();
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0u8; n + 2];
            r.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let session = headers.get("x-sandstorm-session-id").cloned().unwrap_or_default();
    let (status, answer) = if let Some(answer) = links(&method, &path, &session, &body) {
        answer
    } else if path == "/link" {
        ("200 OK", link_page().into_bytes())
    } else if let Some(secs) = path.strip_prefix("/stay-awake?secs=") {
        let secs: u64 = secs.parse().unwrap();
        std::thread::spawn(move || hold_wake_lock(secs));
        ("200 OK", b"holding\n".to_vec())
    } else if let Some(token) = path.strip_prefix("/claim?token=") {
        let session = headers.get("x-sandstorm-session-id").cloned().unwrap_or_default();
        ("200 OK", claim_and_call(&session, token).into_bytes())
    } else if path.ends_with("/big") {
        ("200 OK", pattern(BIG_RESPONSE))
    } else if path.ends_with("/missing") {
        ("404 Not Found", b"<p>no such page</p>".to_vec())
    } else {
        let mut t = format!("method: {method}\npath: {path}\n");
        for (n, v) in &headers {
            t.push_str(&format!("h {n}: {v}\n"));
        }
        t.push_str(&format!(
            "body-length: {}\nbody-sha256: {}\n",
            body.len(),
            hex(&Sha256::digest(&body))
        ));
        ("200 OK", t.into_bytes())
    };
    // The bridge may have gone (a browser that stopped waiting): nothing to answer then.
    let _ = write!(
        w,
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Sandstorm-App-Echo: yes\r\nConnection: close\r\n\r\n",
        if path == "/link" {
            "text/html"
        } else if path.starts_with("/.soiree/") {
            "application/json"
        } else {
            "text/plain"
        },
        answer.len()
    )
    .and_then(|()| w.write_all(&answer));
}

/// One request through the bridge's proxy (`http_proxy`), as a program in the grain makes it.
fn through_proxy(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut s = TcpStream::connect("127.0.0.1:15239").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {url} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    super::read_answer(&mut BufReader::new(s))
}

/// Claims a request token for a session through the bridge's claim endpoint: the saved token
/// of the capability (standard base64), or the endpoint's answer when it refused.
fn claim(session: &str, token: &str) -> Result<String, Answer> {
    let claim = through_proxy(
        "POST",
        &format!("http://http-bridge/session/{session}/claim"),
        &[("Content-Type", "application/json")],
        &serde_json::json!({"requestToken": token, "requiredPermissions": ["read"]}).to_string(),
    );
    if claim.status != 200 {
        return Err(claim);
    }
    let v: serde_json::Value = serde_json::from_slice(&claim.body).unwrap();
    Ok(v["cap"].as_str().unwrap().to_string())
}

/// A GET of `path` through the capability saved as `cap`.
fn call_with(cap: &str, path: &str) -> Answer {
    through_proxy(
        "GET",
        &format!("http://echo.example{path}"),
        &[("Authorization", &format!("Bearer {cap}"))],
        "",
    )
}

/// The grain's side of a link: claims the request token for its session through the bridge's
/// claim endpoint, then calls the granted API with the capability it got back.
fn claim_and_call(session: &str, token: &str) -> String {
    match claim(session, token) {
        Err(refused) => format!("claim-status: {}\n{}", refused.status, refused.text()),
        Ok(cap) => {
            let call = call_with(&cap, "/hello");
            format!("claim-status: 200\ncall-status: {}\n{}", call.status, call.text())
        }
    }
}

/// Where the app keeps the capability a link gave it (its saved token, as the bridge returned it).
fn link_file(name: &str) -> std::path::PathBuf {
    std::path::Path::new("/var/links").join(name)
}

/// The request names the app's link service knows.
const LINK_REQUESTS: &[&str] = &["echo"];

/// The grain side of a link, as `up --link` delivers it: `POST /.soiree/links/<name>/claim` with
/// `{"requestToken"}` claims the token through the bridge for this session, checks the
/// capability with one call (the bridge reports a refused claim only as the error of the first
/// call), and keeps it under `/var`; `GET /.soiree/links/status`; `GET /use-link` calls through
/// the kept capability.
fn links(method: &str, path: &str, session: &str, body: &[u8]) -> Option<(&'static str, Vec<u8>)> {
    if method == "GET" && path == "/.soiree/links/status" {
        let status: serde_json::Map<String, serde_json::Value> = LINK_REQUESTS
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    serde_json::json!({ "linked": link_file(n).is_file() }),
                )
            })
            .collect();
        return Some((
            "200 OK",
            serde_json::Value::Object(status).to_string().into_bytes(),
        ));
    }
    if method == "GET" && (path == "/use-link" || path.starts_with("/use-link?name=")) {
        let name = path.strip_prefix("/use-link?name=").unwrap_or("echo");
        let Ok(cap) = std::fs::read_to_string(link_file(name)) else {
            return Some(("409 Conflict", b"not linked\n".to_vec()));
        };
        let call = call_with(&cap, "/linked");
        return Some((
            "200 OK",
            format!("call-status: {}\n{}", call.status, call.text()).into_bytes(),
        ));
    }
    if method == "POST" && path == "/drop-link" {
        let Ok(cap) = std::fs::read_to_string(link_file("echo")) else {
            return Some(("409 Conflict", b"not linked\n".to_vec()));
        };
        let token = data_encoding::BASE64.decode(cap.as_bytes()).unwrap();
        drop_saved(token);
        // Kept aside, to show that the dropped token no longer works.
        std::fs::rename(link_file("echo"), link_file("dropped")).unwrap();
        return Some(("200 OK", b"dropped\n".to_vec()));
    }
    let name = path.strip_prefix("/.soiree/links/")?.strip_suffix("/claim")?;
    if method != "POST" || !LINK_REQUESTS.contains(&name) {
        return Some((
            "404 Not Found",
            format!("no request named {name:?}\n").into_bytes(),
        ));
    }
    let Some(token) = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["requestToken"].as_str().map(str::to_string))
    else {
        return Some(("400 Bad Request", b"no requestToken\n".to_vec()));
    };
    let cap = match claim(session, &token) {
        Ok(cap) => cap,
        Err(refused) => {
            let why = format!("the claim failed: {}", refused.text());
            return Some(("502 Bad Gateway", why.into_bytes()));
        }
    };
    let check = call_with(&cap, "/check");
    if check.status != 200 {
        return Some((
            "502 Bad Gateway",
            format!("the granted capability does not work: {}", check.text()).into_bytes(),
        ));
    }
    std::fs::create_dir_all("/var/links").unwrap();
    std::fs::write(link_file(name), &cap).unwrap();
    Some(("200 OK", br#"{"linked": true}"#.to_vec()))
}

/// A page with the grain side of a link: a button whose `powerboxRequest` asks for the echo
/// API, and a handler that sends the token it gets to `/claim` and shows the answer.
fn link_page() -> String {
    let descriptor = super::api_request(super::ECHO_API_URL);
    format!(
        r#"<!doctype html><html><body>
<button id="link">Link to the party's echo API</button>
<pre id="status">not linked</pre>
<script>
document.getElementById('link').onclick = () => {{
  window.parent.postMessage({{powerboxRequest: {{rpcId: 7, query: ["{descriptor}"],
    saveLabel: {{defaultText: "echo"}}}}}}, "*");
}};
window.addEventListener('message', async (e) => {{
  const r = e.data || {{}};
  if (r.rpcId !== 7) return;
  const status = document.getElementById('status');
  if (r.canceled) {{ status.textContent = 'canceled'; return; }}
  const res = await fetch('/claim?token=' + encodeURIComponent(r.token));
  status.textContent = 'linked\n' + await res.text();
}});
</script></body></html>
"#
    )
}

/// The app's `OngoingNotification`: the host would call it if the user ended the wake lock.
struct Notification;
impl soiree_schema::grain_capnp::ongoing_notification::Server for Notification {}

/// Runs `f` with the `SandstormApi` an app reaches over `/tmp/sandstorm-api` (the bridge's
/// `SandstormHttpBridge`, then `getSandstormApi`), on a runtime of its own.
fn with_sandstorm_api<F, Fut>(f: F)
where
    F: FnOnce(soiree_schema::grain_capnp::sandstorm_api::Client<capnp::any_pointer::Owned>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use capnp_rpc::{rpc_twoparty_capnp::Side, twoparty, RpcSystem};
    use soiree_schema::grain_capnp::sandstorm_http_bridge;
    use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let stream = tokio::net::UnixStream::connect("/tmp/sandstorm-api")
            .await
            .unwrap();
        let (r, w) = stream.into_split();
        let net = twoparty::VatNetwork::new(r.compat(), w.compat_write(), Side::Client, Default::default());
        let mut rpc = RpcSystem::new(Box::new(net), None);
        let bridge: sandstorm_http_bridge::Client = rpc.bootstrap(Side::Server);
        tokio::task::spawn_local(rpc);
        let api = bridge
            .get_sandstorm_api_request()
            .send()
            .promise
            .await
            .unwrap()
            .get()
            .unwrap()
            .get_api()
            .unwrap();
        f(api).await;
    });
}

/// Holds a `stayAwake` wake lock for `secs` seconds, asked for as an app does it.
fn hold_wake_lock(secs: u64) {
    with_sandstorm_api(|api| async move {
        let mut req = api.stay_awake_request();
        req.get()
            .init_display_info()
            .init_caption()
            .set_default_text("echo test lock");
        req.get().set_notification(capnp_rpc::new_client(Notification));
        let handle = req
            .send()
            .promise
            .await
            .unwrap()
            .get()
            .unwrap()
            .get_handle()
            .unwrap();
        eprintln!("wake lock held");
        tokio::time::sleep(Duration::from_secs(secs)).await;
        // Said first: the grain may be stopped as soon as the release reaches the host.
        eprintln!("releasing the wake lock");
        drop(handle);
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
}

/// `SandstormApi.drop` of a saved token, as an app calls it.
fn drop_saved(token: Vec<u8>) {
    with_sandstorm_api(|api| async move {
        let mut req = api.drop_request();
        req.get().set_token(&token);
        req.send().promise.await.unwrap();
    });
}

/// Reads one WebSocket frame: (opcode, payload), unmasking a client's frame.
pub fn read_frame(r: &mut impl Read) -> Option<(u8, Vec<u8>)> {
    let mut h = [0u8; 2];
    r.read_exact(&mut h).ok()?;
    let mut len = (h[1] & 0x7f) as u64;
    if len == 126 {
        let mut b = [0u8; 2];
        r.read_exact(&mut b).ok()?;
        len = u16::from_be_bytes(b) as u64;
    } else if len == 127 {
        let mut b = [0u8; 8];
        r.read_exact(&mut b).ok()?;
        len = u64::from_be_bytes(b);
    }
    let mut mask = [0u8; 4];
    if h[1] & 0x80 != 0 {
        r.read_exact(&mut mask).ok()?;
    }
    let mut payload = vec![0u8; len as usize];
    r.read_exact(&mut payload).ok()?;
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
    Some((h[0] & 0x0f, payload))
}

/// A frame with FIN set, masked when `mask` is given (clients must mask).
pub fn frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n < 65536 => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

fn websocket_echo(r: &mut impl Read, w: &mut impl Write) {
    while let Some((op, payload)) = read_frame(r) {
        if op == 8 {
            let _ = w.write_all(&frame(8, &[], None));
            return;
        }
        if w.write_all(&frame(op, &payload, None)).is_err() {
            return;
        }
    }
}
