//! A grain of the echo package (Sandstorm's real bridge in front of the echo app) reached
//! through the gateway as the shell's picker chooses (owner, guest role, anonymous) and through
//! an API token: what the app sees, large bodies both ways, WebSocket, refusals.

mod common;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::echo_app::{frame, hex, pattern, read_frame, BIG_RESPONSE, BODY_BYTES};
use common::echo_package::{has, EchoPackage};
use common::http;
use sha2::{Digest, Sha256};

/// The echo app, when this binary runs inside a grain.
#[test]
fn echo_server() {
    common::echo_app::serve_if_asked();
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

    // The client's address reaches the app (as the bridge prints it) only when the client asks
    // with X-Sandstorm-Passthrough; a loopback peer (a proxy in front of the gateway) may say
    // whose address it carries.
    let auth = format!("Bearer {token}");
    let said_ip = ("X-Real-IP", "203.0.113.9");
    let plain = http(
        a,
        &api_host,
        "GET",
        "/x",
        &[("Authorization", &auth), said_ip],
        b"",
    );
    assert!(!plain.text().contains("x-real-ip"), "{}", plain.text());
    let pass = ("X-Sandstorm-Passthrough", "address");
    let own = http(a, &api_host, "GET", "/x", &[("Authorization", &auth), pass], b"");
    assert!(has(&own, "h x-real-ip: 127.0.0.1"), "{}", own.text());
    let proxied = http(
        a,
        &api_host,
        "GET",
        "/x",
        &[("Authorization", &auth), pass, said_ip],
        b"",
    );
    assert!(has(&proxied, "h x-real-ip: 203.0.113.9"), "{}", proxied.text());

    // renderTemplate's tokens as Sandstorm's shell makes them: the shell's call, then the token
    // read from the offer page it serves.
    let render = |msg: serde_json::Value| -> Result<String, String> {
        let r = http(
            a,
            "localhost",
            "POST",
            "/_soiree/template",
            &[],
            msg.to_string().as_bytes(),
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        if let Some(e) = v["error"].as_str() {
            return Err(e.to_string());
        }
        let uri = v["uri"].as_str().unwrap();
        let path = &uri[uri.find("/_soiree/").unwrap()..];
        let page = http(a, "localhost", "GET", path, &[], b"").text();
        assert!(page.contains("X-Sandstorm-Token-Keepalive"), "{page}");
        let token = page
            .split("<pre id=\"offer-text\">")
            .nth(1)
            .and_then(|r| r.split("</pre>").next())
            .unwrap()
            .to_string();
        assert!(page.contains(&format!("\"token\":\"{token}\"")), "{page}");
        Ok(token)
    };
    let use_token = |t: &str| {
        let host = format!("api-{}.localhost", soiree_up::api_host_id(t));
        http(a, &host, "GET", &format!("/.sandstorm-token/{t}/x"), &[], b"")
    };
    let msg = |extra: serde_json::Value| {
        let mut m = serde_json::json!({"grain": "echo", "as": "owner", "template": "$API_TOKEN"});
        m.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        m
    };
    // forSharing: the anonymous user, with the role's permissions; the same request again
    // gets the same token.
    let sharing =
        msg(serde_json::json!({"forSharing": true, "roleAssignment": {"roleId": 0}, "petname": "friends"}));
    let shared = render(sharing.clone()).unwrap();
    assert_eq!(render(sharing).unwrap(), shared);
    let seen = use_token(&shared);
    assert!(
        has(&seen, "h x-sandstorm-username: Anonymous%20User"),
        "{}",
        seen.text()
    );
    assert!(has(&seen, "h x-sandstorm-permissions: read"), "{}", seen.text());
    assert!(!seen.text().contains("x-sandstorm-user-id"), "{}", seen.text());
    // The defaults: the user who made it, every permission they hold.
    let own = render(msg(serde_json::json!({}))).unwrap();
    assert_ne!(own, shared);
    let seen = use_token(&own);
    assert!(has(&seen, "h x-sandstorm-username: Owner"), "{}", seen.text());
    assert!(
        has(&seen, "h x-sandstorm-permissions: read,write"),
        "{}",
        seen.text()
    );
    // A viewer shares no more than reading.
    let viewer =
        render(serde_json::json!({"grain": "echo", "as": "role-0", "template": "$API_TOKEN"})).unwrap();
    let seen = use_token(&viewer);
    assert!(
        has(&seen, "h x-sandstorm-username: Guest%20(viewer)"),
        "{}",
        seen.text()
    );
    assert!(has(&seen, "h x-sandstorm-permissions: read"), "{}", seen.text());
    // A keepalive is answered by the gateway, not the app.
    let fresh = render(msg(serde_json::json!({"petname": "kept"}))).unwrap();
    let host = format!("api-{}.localhost", soiree_up::api_host_id(&fresh));
    let bearer = format!("Bearer {fresh}");
    let kept = http(
        a,
        &host,
        "POST",
        "/",
        &[
            ("Authorization", &bearer),
            ("X-Sandstorm-Token-Keepalive", "300000"),
        ],
        b"",
    );
    assert_eq!(kept.status, 200, "{}", kept.text());
    assert_eq!(kept.text(), "");
    assert_eq!(kept.header("access-control-allow-origin"), Some("*"));
    let bad_keep = http(
        a,
        &host,
        "POST",
        "/",
        &[
            ("Authorization", &bearer),
            ("X-Sandstorm-Token-Keepalive", "soon"),
        ],
        b"",
    );
    assert_eq!(bad_keep.status, 400, "{}", bad_keep.text());
    // Bad parameters are the app's error reply.
    let e = render(msg(serde_json::json!({"roleAssignment": {"roleId": 7}}))).unwrap_err();
    assert_eq!(e, "roleAssignment.roleId 7: the grain has 2 roles");
    let e = render(msg(serde_json::json!({"forSharing": "yes"}))).unwrap_err();
    assert_eq!(e, "forSharing \"yes\": give true or false");

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
