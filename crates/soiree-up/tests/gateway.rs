//! `soiree-up` with Sandstorm's real HTTP bridge: a package whose grain runs the bridge and an
//! echo app (this test binary, run inside the grain with `SOIREE_UP_ECHO=1`), reached through
//! the gateway as the shell's picker chooses (owner, guest role, anonymous) and through an API
//! token: what the app sees, large bodies both ways, WebSocket, refusals.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::{http, Answer};
use sha2::{Digest, Sha256};

const BODY_BYTES: usize = 5_000_000;
const BIG_RESPONSE: usize = 300_000;

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

// ---- the app inside the grain ----

/// The echo app: run by the grain (the bridge's command) when `SOIREE_UP_ECHO` is set.
#[test]
fn echo_server() {
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
    let (status, answer) = if path == "/link" {
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
        if path == "/link" { "text/html" } else { "text/plain" },
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
    common::read_answer(&mut BufReader::new(s))
}

/// The grain's side of a link: claims the request token for its session through the bridge's
/// claim endpoint, then calls the granted API with the capability it got back.
fn claim_and_call(session: &str, token: &str) -> String {
    let claim = through_proxy(
        "POST",
        &format!("http://http-bridge/session/{session}/claim"),
        &[("Content-Type", "application/json")],
        &format!("{{\"requestToken\":\"{token}\",\"requiredPermissions\":[\"read\"]}}"),
    );
    let mut out = format!("claim-status: {}\n", claim.status);
    if claim.status != 200 {
        out.push_str(&claim.text());
        return out;
    }
    let v: serde_json::Value = serde_json::from_slice(&claim.body).unwrap();
    let cap = v["cap"].as_str().unwrap().to_string();
    let call = through_proxy(
        "GET",
        "http://echo.example/hello",
        &[("Authorization", &format!("Bearer {cap}"))],
        "",
    );
    out.push_str(&format!("call-status: {}\n{}", call.status, call.text()));
    out
}

/// A page with the grain side of a link: a button whose `powerboxRequest` asks for the echo
/// API, and a handler that sends the token it gets to `/claim` and shows the answer.
fn link_page() -> String {
    let descriptor = common::api_request(common::ECHO_API_URL);
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

/// Holds a `stayAwake` wake lock for `secs` seconds, asked for over `/tmp/sandstorm-api` as an
/// app does it: the bridge's `SandstormHttpBridge`, then its `SandstormApi`.
fn hold_wake_lock(secs: u64) {
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

/// Reads one WebSocket frame: (opcode, payload), unmasking a client's frame.
fn read_frame(r: &mut impl Read) -> Option<(u8, Vec<u8>)> {
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
fn frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
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

// ---- the host side ----

/// The echo package (the real bridge in front of this test binary) staged once for a test.
struct EchoPackage {
    work: tempfile::TempDir,
    root: std::path::PathBuf,
}

impl EchoPackage {
    /// `None` (the test is skipped, and says so) without Sandstorm's bridge.
    fn stage() -> Option<EchoPackage> {
        let bridge = common::bundle()?;
        common::bwrap_is_installed();
        let work = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let exe = std::env::current_exe().unwrap();
        let root = common::stage(
            work.path(),
            &bridge,
            &exe,
            &[
                "/opt/app/app",
                "--exact",
                "echo_server",
                "--nocapture",
                "--test-threads=1",
            ],
            &[("HOME", "/var"), ("SOIREE_UP_ECHO", "1")],
        );
        Some(EchoPackage { work, root })
    }

    /// A party of grains of the package, each with its own `/var`, logging to one file.
    fn options(&self, names: &[&str], idle: Option<Duration>) -> soiree_up::Options {
        let grains = names
            .iter()
            .map(|name| soiree_up::GrainSpec {
                name: name.to_string(),
                root: self.root.clone(),
                var: self.work.path().join(name),
                log: Some(self.work.path().join("grains.log")),
            })
            .collect();
        soiree_up::Options {
            grains,
            port: 0,
            bwrap: "bwrap".into(),
            idle,
        }
    }

    /// What the grains have printed.
    fn log(&self) -> String {
        std::fs::read_to_string(self.work.path().join("grains.log")).unwrap_or_default()
    }
}

fn lines(a: &Answer) -> Vec<String> {
    a.text().lines().map(str::to_string).collect()
}

fn has(a: &Answer, line: &str) -> bool {
    lines(a).iter().any(|l| l == line)
}

#[test]
fn the_real_bridge_serves_the_shells_sessions_and_api_tokens() {
    let Some(echo) = EchoPackage::stage() else { return };
    let up =
        common::up(echo.options(&["echo"], None)).unwrap_or_else(|e| panic!("{e}\nlog:\n{}", echo.log()));
    let a = up.addr;
    let ui = "ui-echo.localhost";
    let token = up.token("echo");
    let api_host = format!("api-{}.localhost", soiree_up::api_host_id(&token));
    let log_text = || echo.log();

    // The shell lists the grain with its API URL, and frames it with the picker.
    let index = http(a, "localhost", "GET", "/", &[], b"");
    assert_eq!(index.status, 200);
    assert!(index.text().contains("/grain/echo/"), "{}", index.text());
    assert!(index.text().contains(&format!(".sandstorm-token/{token}/")));
    let page = http(a, "localhost", "GET", "/grain/echo/?as=role-1", &[], b"");
    assert!(page.text().contains("Guest (editor)"), "{}", page.text());
    assert!(page.text().contains("_soiree-init?as=role-1"), "{}", page.text());

    // The owner: every permission, a user id, the UI headers; unlisted headers dropped.
    let owner = http(
        a,
        ui,
        "GET",
        "/hello?x=1",
        &[
            ("X-Requested-With", "test"),
            ("Range", "bytes=0-1"),
            ("User-Agent", "up-test/1"),
        ],
        b"",
    );
    assert_eq!(owner.status, 200, "{}\nlog:\n{}", owner.text(), log_text());
    for line in [
        "method: GET",
        "path: /hello?x=1",
        "h x-sandstorm-username: Owner",
        "h x-sandstorm-permissions: read,write",
        "h x-sandstorm-session-type: normal",
        "h x-sandstorm-preferred-handle: owner",
        "h x-requested-with: test",
        "h user-agent: up-test/1",
        &format!("h x-sandstorm-base-path: http://{ui}:{}", a.port()),
    ] {
        assert!(has(&owner, line), "no {line:?} in:\n{}", owner.text());
    }
    assert!(
        owner.text().contains("h x-sandstorm-user-id: "),
        "{}",
        owner.text()
    );
    assert!(!owner.text().contains("h range:"), "{}", owner.text());
    assert_eq!(owner.header("x-sandstorm-app-echo"), Some("yes"));
    assert_eq!(owner.header("cache-control"), None, "not a kept header");
    assert_eq!(owner.header("referrer-policy"), Some("same-origin"));

    // A guest with the viewer role, chosen through the init redirect's cookie, which the app
    // never sees; the app's own cookies pass.
    let init = http(a, ui, "GET", "/_soiree-init?as=role-0&path=/who", &[], b"");
    assert_eq!(init.status, 303);
    assert_eq!(init.header("location"), Some("/who"));
    let cookie = init
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(cookie, "soiree-as=role-0");
    let guest = http(
        a,
        ui,
        "GET",
        "/who",
        &[("Cookie", &format!("{cookie}; app=1"))],
        b"",
    );
    assert!(
        has(&guest, "h x-sandstorm-username: Guest%20(viewer)"),
        "{}",
        guest.text()
    );
    assert!(has(&guest, "h x-sandstorm-permissions: read"), "{}", guest.text());
    assert!(has(&guest, "h cookie: app=1"), "{}", guest.text());
    let anonymous = http(a, ui, "GET", "/", &[("Cookie", "soiree-as=anonymous")], b"");
    assert!(
        has(&anonymous, "h x-sandstorm-username: Anonymous%20User"),
        "{}",
        anonymous.text()
    );
    assert!(
        has(&anonymous, "h x-sandstorm-permissions: "),
        "{}",
        anonymous.text()
    );
    assert!(
        !anonymous.text().contains("x-sandstorm-user-id"),
        "{}",
        anonymous.text()
    );

    // A response the bridge streams arrives whole; an app's 404 keeps its code, as HTML.
    let big = http(a, ui, "GET", "/big", &[], b"");
    assert_eq!(big.status, 200);
    assert!(big.body == pattern(BIG_RESPONSE), "{} bytes", big.body.len());
    let missing = http(a, ui, "GET", "/missing", &[], b"");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), Some("text/html; charset=UTF-8"));

    // A small POST inline and a 5 MB POST streamed, through the API token in the path: the
    // app sees them under apiPath, with Host: sandbox and CORS on the answer.
    let small = http(
        a,
        &api_host,
        "POST",
        &format!("/.sandstorm-token/{token}/form"),
        &[("Content-Type", "text/plain")],
        b"a=1",
    );
    assert!(has(&small, "path: /api/form"), "{}", small.text());
    assert!(has(&small, "body-length: 3"), "{}", small.text());
    let body = pattern(BODY_BYTES);
    let upload = http(
        a,
        &api_host,
        "POST",
        &format!("/.sandstorm-token/{token}/upload"),
        &[("Content-Type", "application/octet-stream")],
        &body,
    );
    assert_eq!(upload.status, 200, "{}", upload.text());
    assert!(has(&upload, "path: /api/upload"), "{}", upload.text());
    assert!(
        has(&upload, &format!("body-length: {BODY_BYTES}")),
        "{}",
        upload.text()
    );
    assert!(
        has(&upload, &format!("body-sha256: {}", hex(&Sha256::digest(&body)))),
        "{}",
        upload.text()
    );
    assert!(has(&upload, "h host: sandbox"), "{}", upload.text());
    assert!(
        has(&upload, "h content-type: application/octet-stream"),
        "{}",
        upload.text()
    );
    assert_eq!(upload.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        upload.header("content-security-policy"),
        Some("default-src 'none'; sandbox")
    );

    // Bearer tokens: the app never sees the Authorization header.
    let bearer = http(
        a,
        &api_host,
        "GET",
        "/x",
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    );
    assert!(has(&bearer, "path: /api/x"), "{}", bearer.text());
    assert!(!bearer.text().contains("authorization"), "{}", bearer.text());

    // Refusals: a wrong token, no token, a preflight without one.
    let wrong = http(a, &api_host, "GET", "/.sandstorm-token/not-a-token/x", &[], b"");
    assert_eq!(wrong.status, 403);
    assert_eq!(wrong.text(), "Invalid authorization token\n");
    let none = http(a, &api_host, "GET", "/x", &[], b"");
    assert_eq!(none.status, 401);
    assert_eq!(
        none.header("www-authenticate"),
        Some("Basic realm='Sandstorm API'")
    );
    let pre = http(
        a,
        &api_host,
        "OPTIONS",
        "/x",
        &[("Access-Control-Request-Method", "PUT")],
        b"",
    );
    assert_eq!(pre.status, 200);
    assert_eq!(
        pre.header("access-control-allow-methods"),
        Some("GET, HEAD, POST, PUT, PATCH, DELETE, PUT")
    );

    // WebSocket through the token URL: a short and a long message come back intact.
    let mut s = TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET /.sandstorm-token/{token}/ws HTTP/1.1\r\nHost: {api_host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    .unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let (status, headers) = common::read_head(&mut r);
    assert_eq!(status, 101, "{headers:?}");
    assert!(
        headers.contains(&(
            "sec-websocket-accept".into(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into()
        )),
        "{headers:?}"
    );
    for msg in [b"hello soiree".to_vec(), pattern(100_000)] {
        s.write_all(&frame(1, &msg, Some([1, 2, 3, 4]))).unwrap();
        let (op, back) = read_frame(&mut r).unwrap();
        assert_eq!(op, 1);
        assert!(back == msg, "{} bytes back of {}", back.len(), msg.len());
    }
    drop(up);
    assert!(log_text().contains("echo listening"), "{}", log_text());
}

#[test]
fn the_offline_stand_in_bridge_is_refused() {
    let stand_in =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/inputs/sandstorm-bundle/bin");
    let root = tempfile::tempdir().unwrap();
    std::fs::copy(
        stand_in.join("sandstorm-http-bridge"),
        root.path().join("sandstorm-http-bridge"),
    )
    .unwrap();
    let e = soiree_up::check_bridge(root.path()).unwrap_err();
    let text = format!("{e}");
    assert!(text.contains("offline stand-in"), "{text}");
    let help = miette::Diagnostic::help(&e).unwrap().to_string();
    assert!(help.contains("--source sandstorm-bundle=DIR"), "{help}");
    // A party with it does not start, and nothing is left running (no grain was started).
    let opts = soiree_up::Options {
        grains: vec![soiree_up::GrainSpec {
            name: "x".into(),
            root: root.path().to_path_buf(),
            var: root.path().join("var"),
            log: None,
        }],
        port: 0,
        bwrap: "bwrap".into(),
        idle: None,
    };
    let err = common::up(opts).err().unwrap();
    assert!(err.contains("StandInBridge"), "{err}");
    assert!(
        !root.path().join("var").exists(),
        "no /var made for a refused grain"
    );
}

/// Two grains of the echo package: grain a's request for the echo API is granted with grain b's,
/// as the shell's picker does it; a's app claims the token through its bridge and calls b through
/// the capability, b's bridge adding the API's name and permissions. Reused and unknown tokens,
/// unmatched and malformed requests are refused.
#[test]
fn the_powerbox_links_two_grains_through_their_bridges() {
    let Some(echo) = EchoPackage::stage() else { return };
    let up = common::up(echo.options(&["a", "b"], None)).unwrap_or_else(|e| panic!("{e}"));
    let a = up.addr;
    let shell = |path: &str, body: serde_json::Value| -> (u16, serde_json::Value) {
        let r = http(a, "localhost", "POST", path, &[], body.to_string().as_bytes());
        (r.status, serde_json::from_slice(&r.body).unwrap())
    };
    let query = serde_json::json!([common::api_request(common::ECHO_API_URL)]);

    // Grain b has been used before (its bridge knows the owner's identity already).
    assert_eq!(http(a, "ui-b.localhost", "GET", "/", &[], b"").status, 200);

    // The picker's options: both grains export the API.
    let (status, options) = shell("/_soiree/powerbox/options", serde_json::json!({ "query": query }));
    assert_eq!(status, 200, "{options}");
    assert_eq!(
        options["options"],
        serde_json::json!([
            {"grain": "a", "api": "echo-api", "title": "Echo API"},
            {"grain": "b", "api": "echo-api", "title": "Echo API"},
        ])
    );
    let (status, granted) = shell(
        "/_soiree/powerbox/grant",
        serde_json::json!({"grain": "a", "as": "owner", "query": query, "provider": "b", "api": "echo-api"}),
    );
    assert_eq!(status, 200, "{granted}");
    let token = granted["token"].as_str().unwrap().to_string();
    let descriptor = soiree_up::parse_query(&[granted["descriptor"].as_str().unwrap().to_string()]).unwrap();
    assert_eq!(
        descriptor[0].tags,
        vec![(0xc879e379c625cdc7, Some(common::ECHO_API_URL.to_string()))]
    );

    // Grain a's app claims it (as the owner's session, which made the request) and calls b.
    let ui = "ui-a.localhost";
    let linked = http(a, ui, "GET", &format!("/claim?token={token}"), &[], b"");
    let t = linked.text();
    assert!(
        t.contains("claim-status: 200\ncall-status: 200\n"),
        "{t}\nlog:\n{}",
        echo.log()
    );
    // The bridge joins the API's path (which must end in `/`) and the request's with another `/`.
    for line in [
        "path: /pb//hello",
        "h x-sandstorm-api: echo-api",
        "h x-sandstorm-permissions: read",
        "h x-sandstorm-username: Owner",
        "h host: sandbox",
    ] {
        assert!(t.lines().any(|l| l == line), "no {line:?} in:\n{t}");
    }
    assert!(!t.contains("authorization"), "{t}");

    // A token is claimed once; a wrong one, or one claimed from another session, is refused.
    // The bridge saves the claim's result pipelined on the claim, so the refusal reaches the app
    // as the error of its first call through the capability it got back.
    let again = http(a, ui, "GET", &format!("/claim?token={token}"), &[], b"").text();
    assert!(again.contains("call-status: 500\n"), "{again}");
    assert!(again.contains("already claimed"), "{again}");
    let wrong = http(a, ui, "GET", "/claim?token=not-granted", &[], b"").text();
    assert!(wrong.contains("call-status: 500\n"), "{wrong}");
    assert!(wrong.contains("no such token"), "{wrong}");
    let (_, other) = shell(
        "/_soiree/powerbox/grant",
        serde_json::json!({"grain": "a", "as": "owner", "query": query, "provider": "b", "api": "echo-api"}),
    );
    let other = other["token"].as_str().unwrap().to_string();
    let as_guest = http(
        a,
        ui,
        "GET",
        &format!("/claim?token={other}"),
        &[("Cookie", "soiree-as=role-0")],
        b"",
    )
    .text();
    assert!(
        as_guest.contains("no such token"),
        "another session's token: {as_guest}"
    );

    // Requests nothing offers, unknown APIs, malformed descriptors.
    let elsewhere = serde_json::json!([common::api_request("https://elsewhere.example/")]);
    let (_, none) = shell(
        "/_soiree/powerbox/options",
        serde_json::json!({ "query": elsewhere }),
    );
    assert_eq!(none["options"], serde_json::json!([]));
    let (status, e) = shell(
        "/_soiree/powerbox/grant",
        serde_json::json!({"grain": "a", "query": elsewhere, "provider": "b", "api": "echo-api"}),
    );
    assert_eq!(status, 400);
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("does not match the request"),
        "{e}"
    );
    let (_, e) = shell(
        "/_soiree/powerbox/grant",
        serde_json::json!({"grain": "a", "query": query, "provider": "b", "api": "nope"}),
    );
    assert!(
        e["error"]
            .as_str()
            .unwrap()
            .contains("offers no API \"nope\" (it offers: echo-api)"),
        "{e}"
    );
    let (status, e) = shell(
        "/_soiree/powerbox/options",
        serde_json::json!({ "query": ["AAAA"] }),
    );
    assert_eq!(status, 400);
    assert!(e["error"].as_str().unwrap().contains("malformed"), "{e}");

    // The shell page carries the picker's script and who the frame's session is for.
    let page = http(a, "localhost", "GET", "/grain/a/", &[], b"").text();
    assert!(
        page.contains("powerboxRequest") && page.contains(r#"{"as":"owner","grain":"a"}"#),
        "{page}"
    );
}

/// Chromium as a person would use it: the shell frames grain a's page, its "link" button sends
/// a real `powerboxRequest`, the shell's picker offers grain b, and after the click the page
/// shows the link working — claimed through a's bridge, answered by b's.
#[test]
fn a_link_made_in_headless_chromium() {
    let chromium = std::path::Path::new("/usr/bin/chromium");
    let driver = std::path::Path::new("/usr/bin/chromedriver");
    assert!(
        chromium.exists() && driver.exists(),
        "apt-get install chromium chromium-driver (.ci/run installs them)"
    );
    let Some(echo) = EchoPackage::stage() else { return };
    let up = common::up(echo.options(&["a", "b"], None)).unwrap_or_else(|e| panic!("{e}"));

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut chromedriver = std::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let profile = echo.work.path().join("chromium-profile");
    let shell_url = format!("http://127.0.0.1:{}/grain/a/?path=/link", up.addr.port());
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            use fantoccini::Locator;
            let mut caps = fantoccini::wd::Capabilities::new();
            caps.insert(
                "goog:chromeOptions".into(),
                serde_json::json!({
                    "binary": chromium,
                    "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                             "--no-first-run", "--disable-background-networking",
                             "--disable-component-update", "--disable-sync",
                             format!("--user-data-dir={}", profile.display())],
                }),
            );
            let mut client = None;
            // chromedriver takes a moment to listen.
            for _ in 0..50 {
                match fantoccini::ClientBuilder::new(
                        hyper_util::client::legacy::connect::HttpConnector::new(),
                    )
                    .capabilities(caps.clone())
                    .connect(&format!("http://127.0.0.1:{port}"))
                    .await
                    {
                        Ok(c) => {
                            client = Some(c);
                            break;
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
            }
            let c = client.expect("chromedriver did not start");
            let step = |what: &'static str| move |e: fantoccini::error::CmdError| format!("{what}: {e}");
            let run = async {
                c.goto(&shell_url).await.map_err(step("open the shell"))?;
                c.wait()
                    .for_element(Locator::Id("grain-frame"))
                    .await
                    .map_err(step("the frame"))?
                    .enter_frame()
                    .await
                    .map_err(step("enter the frame"))?;
                c.wait()
                    .for_element(Locator::Id("link"))
                    .await
                    .map_err(step("the grain's link button"))?
                    .click()
                    .await
                    .map_err(step("click link"))?;
                c.enter_parent_frame().await.map_err(step("leave the frame"))?;
                c.wait()
                    .for_element(Locator::Id("powerbox-option-b-echo-api"))
                    .await
                    .map_err(step("the picker's option"))?
                    .click()
                    .await
                    .map_err(step("click the option"))?;
                c.find(Locator::Id("grain-frame"))
                    .await
                    .map_err(step("the frame again"))?
                    .enter_frame()
                    .await
                    .map_err(step("enter the frame again"))?;
                let status = c.find(Locator::Id("status")).await.map_err(step("the status"))?;
                let deadline = std::time::Instant::now() + Duration::from_secs(30);
                loop {
                    let text = status.text().await.map_err(step("the status text"))?;
                    if text.starts_with("linked") || std::time::Instant::now() > deadline {
                        return Ok::<String, String>(text);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            };
            let out = match run.await {
                Ok(t) => Ok(t),
                Err(e) => {
                    let here = c.source().await.unwrap_or_default();
                    let _ = c.enter_parent_frame().await;
                    Err(format!(
                        "{e}\nframe:\n{here}\npage:\n{}",
                        c.source().await.unwrap_or_default()
                    ))
                }
            };
            let _ = c.close().await;
            out
        });
    let _ = chromedriver.kill();
    let _ = chromedriver.wait();
    let text = result.unwrap_or_else(|e| panic!("{e}\nlog:\n{}", echo.log()));
    assert!(
        text.starts_with("linked\nclaim-status: 200\ncall-status: 200\n"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "h x-sandstorm-api: echo-api"), "{text}");
    drop(up);
}

/// The shell index's line for a grain (its state and wake locks).
fn grain_line(addr: std::net::SocketAddr, grain: &str) -> String {
    let index = http(addr, "localhost", "GET", "/", &[], b"").text();
    index
        .lines()
        .find(|l| l.contains(&format!("/grain/{grain}/")))
        .unwrap_or("")
        .to_string()
}

fn wait_for(addr: std::net::SocketAddr, grain: &str, want: &str, within: Duration) -> String {
    let deadline = std::time::Instant::now() + within;
    loop {
        let line = grain_line(addr, grain);
        if line.contains(want) || std::time::Instant::now() > deadline {
            return line;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// With a 1 s idle check, an unused grain stops and the next request starts it again; a
/// `stayAwake` wake lock taken by the app over `/tmp/sandstorm-api` keeps it running past the
/// checks, and releasing it lets the grain stop.
#[test]
fn idle_grains_stop_unless_held_awake_and_start_again_on_the_next_request() {
    let Some(echo) = EchoPackage::stage() else { return };
    let up =
        common::up(echo.options(&["echo"], Some(Duration::from_secs(1)))).unwrap_or_else(|e| panic!("{e}"));
    let a = up.addr;
    let ui = "ui-echo.localhost";
    let log_text = || echo.log();

    assert_eq!(http(a, ui, "GET", "/x", &[], b"").status, 200);
    let line = wait_for(a, "echo", "(stopped)", Duration::from_secs(10));
    assert!(line.contains("(stopped)"), "{line}");
    // The next request starts it again, through a new session.
    let again = http(a, ui, "GET", "/x", &[], b"");
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(grain_line(a, "echo").contains("(running)"));
    assert_eq!(log_text().matches("echo listening").count(), 2, "{}", log_text());

    // A wake lock keeps it running through several idle checks, and the shell shows it.
    assert_eq!(
        http(a, ui, "GET", "/stay-awake?secs=4", &[], b"").text(),
        "holding\n"
    );
    std::thread::sleep(Duration::from_millis(3500));
    let line = grain_line(a, "echo");
    assert!(
        line.contains("(running)") && line.contains("awake: echo test lock"),
        "{line}\n{}",
        log_text()
    );
    let line = wait_for(a, "echo", "(stopped)", Duration::from_secs(10));
    assert!(
        line.contains("(stopped)") && !line.contains("awake"),
        "{line}\n{}",
        log_text()
    );
    assert!(log_text().contains("releasing the wake lock"), "{}", log_text());
}

/// Two grains on one `/var` would corrupt each other: the second is refused by the lock beside
/// it, naming the holder, and the first is stopped again — nothing is left running.
#[test]
fn a_var_in_use_is_refused_and_nothing_is_left_running() {
    let Some(echo) = EchoPackage::stage() else { return };
    let mut opts = echo.options(&["first", "second"], None);
    for g in &mut opts.grains {
        g.var = echo.work.path().join("var");
    }
    let e = common::up(opts).err().unwrap();
    assert!(e.contains("VarInUse"), "{e}");
    assert!(e.contains("soiree-pack up (first)"), "the holder is named: {e}");
    // The first grain was stopped: its lock is free again.
    let lock = echo.work.path().join("var.lock");
    assert!(soiree_fs::Lock::try_acquire(&lock, "test").is_ok(), "{e}");
}
