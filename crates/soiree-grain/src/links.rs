//! The grain's side of its Powerbox links: the link service behind `/.soiree/links/` (the page,
//! claims through the bridge's proxy, unlink, status) and a forwarder per request reached on a
//! local port. Threads of the supervisor, std only: one listener each and a thread per
//! connection, so one bad connection never stops the others.

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::config::{LinkRequest, Links};
use crate::http1::{self, Head};
use crate::link_store::LinkStore;
use crate::{log, Error};

/// Where every path of the link service starts (nginx passes the whole path on).
pub const PREFIX: &str = "/.soiree/links/";

/// What the link threads share.
pub struct Shared {
    pub package: String,
    pub links: Links,
    pub store: LinkStore,
    /// The bridge's proxy (`host:port`), or `None` outside a grain.
    pub proxy: Option<String>,
    /// Requests whose forwarder sends straight to an address (`SOIREE_LINK_<REQUEST>`, outside
    /// Sandstorm) rather than through the proxy with a capability.
    pub direct: std::collections::BTreeMap<String, crate::ready::HttpUrl>,
}

/// Where a deployment without Sandstorm names what a request is linked to.
pub const ENV_PREFIX: &str = "SOIREE_LINK_";

/// `SOIREE_LINK_URO_API` for request `uro-api` (`-` becomes `_`).
pub fn env_name(request: &str) -> String {
    format!("{ENV_PREFIX}{}", request.to_ascii_uppercase().replace('-', "_"))
}

/// The forwarded requests whose `SOIREE_LINK_<REQUEST>` is set, with the `http://` base each
/// one's requests go under; a value that is not such a URL is an error.
pub fn direct_from_env(
    links: &Links,
) -> Result<std::collections::BTreeMap<String, crate::ready::HttpUrl>, Error> {
    let mut direct = std::collections::BTreeMap::new();
    for r in links.requests.iter().filter(|r| r.forward.is_some()) {
        let var = env_name(&r.name);
        match std::env::var(&var) {
            Ok(v) if !v.is_empty() => {
                // HttpUrl's own errors speak of readiness URLs, where it is used first.
                let url = crate::ready::HttpUrl::parse(&v).map_err(|_| {
                    Error::Config(format!("{var}=`{v}` is not an http://HOST:PORT/PATH/ address"))
                })?;
                log::say(&format!("link `{}` goes to {v}", r.name));
                direct.insert(r.name.clone(), url);
            }
            _ => {}
        }
    }
    Ok(direct)
}

/// The ports actually listened on (the link service first), for tests that ask for port 0.
#[derive(Debug, Clone)]
pub struct Listening {
    pub service: u16,
    pub forwards: Vec<(String, u16)>,
}

/// Binds the link service and every forwarder, then serves them on threads of their own.
pub fn start(shared: Shared) -> Result<Listening, Error> {
    let shared = Arc::new(shared);
    let bind = |port: u16, what: &str| {
        TcpListener::bind(("127.0.0.1", port))
            .map_err(|e| Error::Io(format!("{what}: cannot listen on 127.0.0.1:{port}: {e}")))
    };
    let service = bind(shared.links.port, "the link service")?;
    let mut listening = Listening {
        service: local_port(&service),
        forwards: Vec::new(),
    };
    let mut forwarders = Vec::new();
    for (i, r) in shared.links.requests.iter().enumerate() {
        if let Some(f) = &r.forward {
            let l = bind(f.port, &format!("the forwarder of request `{}`", r.name))?;
            listening.forwards.push((r.name.clone(), local_port(&l)));
            forwarders.push((i, l));
        }
    }
    spawn_accept(service, shared.clone(), |s, c| serve_links(&s, c))?;
    for (i, l) in forwarders {
        spawn_accept(l, shared.clone(), move |s, c| {
            crate::forward::serve(&s, &s.links.requests[i], c)
        })?;
    }
    Ok(listening)
}

fn local_port(l: &TcpListener) -> u16 {
    l.local_addr().map(|a| a.port()).unwrap_or(0)
}

fn spawn_accept(
    listener: TcpListener,
    shared: Arc<Shared>,
    serve: impl Fn(Arc<Shared>, TcpStream) + Send + Sync + Copy + 'static,
) -> Result<(), Error> {
    std::thread::Builder::new()
        .name("links".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else {
                    // Out of descriptors, most likely: let connections end before trying again.
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
                let shared = shared.clone();
                // A failed spawn drops this one connection only.
                let _ = std::thread::Builder::new()
                    .name("link".into())
                    .spawn(move || serve(shared, conn));
            }
        })
        .map(|_| ())
        .map_err(|e| Error::Io(format!("cannot start the link service: {e}")))
}

fn serve_links(shared: &Shared, conn: TcpStream) {
    let Ok(mut w) = conn.try_clone() else { return };
    let mut r = BufReader::new(conn);
    let head = match http1::read_head(&mut r) {
        Ok(h) => h,
        Err(e) => return http1::text(&mut w, 400, &format!("{e}\n")),
    };
    let body = match http1::read_body(&mut r, &head) {
        Ok(b) => b,
        Err(e) => return http1::text(&mut w, 413, &format!("{e}\n")),
    };
    let (status, content_type, answer) = route(shared, &head, &body);
    http1::answer(&mut w, status, content_type, answer.as_bytes());
}

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";

/// The link service's answer to one request: status, content type, body.
pub fn route(shared: &Shared, head: &Head, body: &[u8]) -> (u16, &'static str, String) {
    let path = head.target.split('?').next().unwrap_or("");
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return (404, TEXT, format!("the link service serves {PREFIX} only\n"));
    };
    let get = head.method == "GET" || head.method == "HEAD";
    match rest {
        "" if get => (
            200,
            "text/html; charset=utf-8",
            crate::link_page::page(&shared.package, &shared.links.requests, |n| {
                shared.store.get(n).is_some()
            }),
        ),
        "links.js" if get => (
            200,
            "text/javascript; charset=utf-8",
            crate::link_page::SCRIPT.to_string(),
        ),
        "status" if get => (200, JSON, status(shared)),
        _ => {
            let Some((name, action)) = rest.split_once('/') else {
                return (404, TEXT, format!("no page {path}\n"));
            };
            let Some(request) = shared.links.requests.iter().find(|r| r.name == name) else {
                return (
                    404,
                    TEXT,
                    format!("`{}` makes no request named `{name}`\n", shared.package),
                );
            };
            // Anonymous visitors (a Client grain is shared with players by link) may look, but
            // not change what the grain is linked to.
            let signed_in = head
                .header("x-sandstorm-user-id")
                .is_some_and(|id| !id.is_empty());
            match (head.method.as_str(), action) {
                ("POST", "claim" | "unlink") if !signed_in => (
                    403,
                    TEXT,
                    "only a signed-in user of this grain can link or unlink it\n".into(),
                ),
                ("POST", "claim") => claim(shared, request, head, body),
                ("POST", "unlink") => match shared.store.remove(&request.name) {
                    Ok(()) => {
                        log::say(&format!("request `{}` unlinked", request.name));
                        (200, JSON, r#"{"linked":false}"#.into())
                    }
                    Err(e) => (500, TEXT, format!("cannot forget the capability: {e}\n")),
                },
                (_, "claim" | "unlink") => (405, TEXT, format!("{action} is a POST\n")),
                _ => (404, TEXT, format!("no page {path}\n")),
            }
        }
    }
}

/// `{"NAME": {"linked": bool}, …}`.
fn status(shared: &Shared) -> String {
    let map: serde_json::Map<String, serde_json::Value> = shared
        .links
        .requests
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                serde_json::json!({ "linked": shared.store.get(&r.name).is_some() }),
            )
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// Claims the request token the page got from the Powerbox, for the session whose page asked
/// (the bridge's `X-Sandstorm-Session-Id`), and keeps the capability.
fn claim(shared: &Shared, request: &LinkRequest, head: &Head, body: &[u8]) -> (u16, &'static str, String) {
    let Some(session) = head.header("x-sandstorm-session-id").filter(|s| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) else {
        return (
            400,
            TEXT,
            "no X-Sandstorm-Session-Id: a claim comes from the grain's page, through Sandstorm's HTTP bridge\n".into(),
        );
    };
    let token = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("requestToken")?.as_str().map(str::to_string))
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return (
            400,
            TEXT,
            "the body must be JSON {\"requestToken\": \"…\"}, the token the Powerbox gave the page\n".into(),
        );
    };
    let Some(proxy) = &shared.proxy else {
        return (
            503,
            TEXT,
            "this grain runs without Sandstorm's HTTP bridge (no http_proxy): nothing can claim a Powerbox grant here\n".into(),
        );
    };
    // The grain's own permissions are not required of the user: any user of this grain who may
    // make the request may link it (the package defines none for its requests).
    let call = serde_json::json!({
        "requestToken": token,
        "requiredPermissions": [],
        "label": { "defaultText": request.label },
    });
    let reply = match http1::call(
        proxy,
        "POST",
        &format!("http://http-bridge/session/{session}/claim"),
        &[("Content-Type", "application/json")],
        call.to_string().as_bytes(),
    ) {
        Ok(r) => r,
        Err(e) => return (502, TEXT, format!("{e}\n")),
    };
    if reply.status != 200 {
        return (
            502,
            TEXT,
            format!(
                "the bridge refused the claim ({}): {}\n",
                reply.status,
                String::from_utf8_lossy(&reply.body).trim_end()
            ),
        );
    }
    let cap = serde_json::from_slice::<serde_json::Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("cap")?.as_str().map(str::to_string))
        // The cap goes into an Authorization header: standard base64 only.
        .filter(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        });
    let Some(cap) = cap else {
        return (
            502,
            TEXT,
            format!(
                "the bridge's claim answer has no capability: {}\n",
                String::from_utf8_lossy(&reply.body).trim_end()
            ),
        );
    };
    // The bridge saves the claim's result without waiting for it, so a refused token (reused,
    // of another session, expired) still comes back as a cap; only a call through it fails.
    if let Err(why) = probe(proxy, request, &cap) {
        return (502, TEXT, format!("the claim was refused: {why}\n"));
    }
    if let Err(e) = shared.store.put(&request.name, &cap) {
        return (500, TEXT, format!("cannot keep the capability under /var: {e}\n"));
    }
    log::say(&format!("request `{}` linked", request.name));
    (200, JSON, r#"{"linked":true}"#.into())
}

/// One call through a newly claimed cap before it is kept: a `GET` of the API's root, which
/// changes nothing in any HTTP API. Whatever the other grain answers proves the cap works; a
/// cap that cannot be restored fails inside the bridge, whose server then answers KJ's text for
/// an exception (or closes the connection).
fn probe(proxy: &str, request: &LinkRequest, cap: &str) -> Result<(), String> {
    let bearer = format!("Bearer {cap}");
    let reply = http1::call(
        proxy,
        "GET",
        &format!("http://{}/", request.name),
        &[("Authorization", &bearer)],
        b"",
    )?;
    let body = String::from_utf8_lossy(&reply.body);
    if reply.status >= 500 && body.starts_with(KJ_EXCEPTION) {
        return Err(format!(
            "a call through the capability failed ({}): {}",
            reply.status,
            body.trim_end()
        ));
    }
    Ok(())
}

/// How KJ's HTTP server, the bridge's proxy, begins the answer for a call that threw.
const KJ_EXCEPTION: &str = "ERROR: The server threw an exception";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Forward;

    fn shared(var: &std::path::Path) -> Shared {
        Shared {
            package: "server".into(),
            links: Links {
                port: 0,
                requests: vec![LinkRequest {
                    name: "uro".into(),
                    label: "the party's <Uro>".into(),
                    interface: "api-session".into(),
                    descriptor: "EAZQAQEAABEBF1EEAQH_MiZ9VsB3GDAB".into(),
                    forward: Some(Forward {
                        port: 0,
                        path: "/api/v1/".into(),
                    }),
                }],
            },
            store: LinkStore::new(var),
            proxy: None,
            direct: Default::default(),
        }
    }

    fn head(method: &str, target: &str, headers: &[(&str, &str)]) -> Head {
        Head {
            method: method.into(),
            target: target.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn routes_the_page_status_and_refusals() {
        let var = tempfile::tempdir().unwrap();
        let s = shared(var.path());
        let (st, ty, page) = route(&s, &head("GET", "/.soiree/links/", &[]), b"");
        assert_eq!((st, ty), (200, "text/html; charset=utf-8"));
        assert!(page.contains("the party&#39;s &lt;Uro&gt;"), "{page}");
        assert!(
            page.contains(r#"data-descriptor="EAZQAQEAABEBF1EEAQH_MiZ9VsB3GDAB""#),
            "{page}"
        );
        assert!(page.contains(r#"<script src="links.js">"#), "{page}");
        assert_eq!(
            route(&s, &head("GET", "/.soiree/links/status", &[]), b"").2,
            r#"{"uro":{"linked":false}}"#
        );
        s.store.put("uro", "Y2Fw").unwrap();
        assert_eq!(
            route(&s, &head("GET", "/.soiree/links/status", &[]), b"").2,
            r#"{"uro":{"linked":true}}"#
        );
        // An anonymous visitor may not unlink (nor claim); a signed-in user may.
        let user = ("X-Sandstorm-User-Id", "0123456789abcdef0123456789abcdef");
        let (st, _, why) = route(&s, &head("POST", "/.soiree/links/uro/unlink", &[]), b"");
        assert_eq!(st, 403);
        assert!(why.contains("signed-in"), "{why}");
        assert!(s.store.get("uro").is_some());
        let unlink = head("POST", "/.soiree/links/uro/unlink", &[user]);
        assert_eq!(route(&s, &unlink, b"").0, 200);
        assert_eq!(s.store.get("uro"), None);
        let anonymous = head(
            "POST",
            "/.soiree/links/uro/claim",
            &[("X-Sandstorm-Session-Id", "0")],
        );
        assert_eq!(route(&s, &anonymous, br#"{"requestToken": "t"}"#).0, 403);

        let claim = |headers: &[(&str, &str)], body: &[u8]| {
            let mut headers = headers.to_vec();
            headers.push(user);
            route(&s, &head("POST", "/.soiree/links/uro/claim", &headers), body)
        };
        let (st, _, why) = claim(&[], br#"{"requestToken": "t"}"#);
        assert_eq!(st, 400);
        assert!(why.contains("X-Sandstorm-Session-Id"), "{why}");
        let (st, _, why) = claim(&[("X-Sandstorm-Session-Id", "0")], b"token");
        assert_eq!(st, 400);
        assert!(why.contains("requestToken"), "{why}");
        let (st, _, why) = claim(&[("X-Sandstorm-Session-Id", "0")], br#"{"requestToken": "t"}"#);
        assert_eq!(st, 503);
        assert!(why.contains("without Sandstorm's HTTP bridge"), "{why}");
        let (st, _, why) = claim(
            &[("X-Sandstorm-Session-Id", "0/../x")],
            br#"{"requestToken": "t"}"#,
        );
        assert_eq!(st, 400, "{why}");
        assert_eq!(
            route(&s, &head("GET", "/.soiree/links/uro/claim", &[]), b"").0,
            405
        );
        let (st, _, why) = route(&s, &head("POST", "/.soiree/links/ipfs/claim", &[]), b"");
        assert_eq!(st, 404);
        assert!(why.contains("no request named `ipfs`"), "{why}");
    }
}
