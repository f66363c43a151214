//! A browser's HTTP request turned into the matching `WebSession` call, as Sandstorm's gateway
//! does it: cookies (UI hosts only, minus the gateway's own), `Accept`/`Accept-Encoding` with
//! q-values, ETag preconditions, the whitelisted extra headers, and bodies — small ones inline,
//! large or unsized ones streamed through `postStreaming`/`putStreaming`.

use bytes::Bytes;
use capnp::capability::FromClientHook;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use soiree_schema::util_capnp::byte_stream;
use soiree_schema::web_session_capnp::web_session::{self, context, PropfindDepth};

use crate::response::{self, Body, HostKind};
use crate::streams::BodySink;

/// Sandstorm's request header whitelist (`WebSession.Context.headerWhitelist`); a trailing `*`
/// matches any suffix.
const REQUEST_WHITELIST: &[&str] = &[
    "x-sandstorm-app-*",
    "oc-total-length",
    "oc-chunk-size",
    "x-oc-mtime",
    "oc-fileid",
    "oc-chunked",
    "oc-checksum",
    "oc-chunk-offset",
    "oc-lazyops",
    "x-hgarg-*",
    "x-phabricator-*",
    "x-requested-with",
    "x-csrftoken",
    "x-csrf-token",
];

/// Bodies below this size go inline in `post`/`put`; others are streamed (Sandstorm's limit).
const INLINE_BODY: u64 = 65536;

/// The cookie the gateway keeps for itself on UI hosts; never passed to the app.
pub const GATEWAY_COOKIE: &str = "soiree-as";

pub fn whitelisted(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    REQUEST_WHITELIST.iter().any(|w| match w.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *w,
    })
}

enum Precondition {
    None,
    Exists,
    DoesntExist,
    MatchesOneOf(Vec<(String, bool)>),
    MatchesNoneOf(Vec<(String, bool)>),
}

/// What the call's `Context` carries, read from the request's headers.
pub struct ContextIn {
    cookies: Vec<(String, String)>,
    accept: Vec<(String, f32)>,
    accept_encoding: Vec<(String, f32)>,
    precondition: Precondition,
    headers: Vec<(String, String)>,
}

fn header(h: &hyper::HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

fn qlist(v: Option<String>) -> Vec<(String, f32)> {
    v.unwrap_or_default()
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().filter(|n| !n.is_empty())?.to_string();
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((name, q))
        })
        .collect()
}

fn etags(v: &str) -> Vec<(String, bool)> {
    v.split(',')
        .filter_map(|t| {
            let t = t.trim();
            let (weak, t) = match t.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, t),
            };
            let t = t.strip_prefix('"')?.strip_suffix('"')?;
            Some((t.to_string(), weak))
        })
        .collect()
}

impl ContextIn {
    pub fn read(h: &hyper::HeaderMap, host: HostKind) -> ContextIn {
        let mut cookies = Vec::new();
        if host == HostKind::Ui {
            for v in h.get_all(hyper::header::COOKIE) {
                for c in v.to_str().unwrap_or("").split(';') {
                    if let Some((k, v)) = c.trim().split_once('=') {
                        if k != GATEWAY_COOKIE {
                            cookies.push((k.to_string(), v.to_string()));
                        }
                    }
                }
            }
        }
        let precondition = match (header(h, "if-match"), header(h, "if-none-match")) {
            (Some(m), _) if m.trim() == "*" => Precondition::Exists,
            (Some(m), _) => Precondition::MatchesOneOf(etags(&m)),
            (None, Some(m)) if m.trim() == "*" => Precondition::DoesntExist,
            (None, Some(m)) => Precondition::MatchesNoneOf(etags(&m)),
            (None, None) => Precondition::None,
        };
        let headers = h
            .iter()
            .filter(|(n, _)| whitelisted(n.as_str()))
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        ContextIn {
            cookies,
            accept: qlist(header(h, "accept")),
            accept_encoding: qlist(header(h, "accept-encoding")),
            precondition,
            headers,
        }
    }

    pub fn if_none_match(&self) -> bool {
        matches!(
            self.precondition,
            Precondition::DoesntExist | Precondition::MatchesNoneOf(_)
        )
    }

    pub fn fill(&self, mut c: context::Builder, stream: byte_stream::Client) {
        c.set_response_stream(stream);
        let mut l = c.reborrow().init_cookies(self.cookies.len() as u32);
        for (i, (k, v)) in self.cookies.iter().enumerate() {
            let mut kv = l.reborrow().get(i as u32);
            kv.set_key(k);
            kv.set_value(v);
        }
        let mut l = c.reborrow().init_accept(self.accept.len() as u32);
        for (i, (t, q)) in self.accept.iter().enumerate() {
            let mut a = l.reborrow().get(i as u32);
            a.set_mime_type(t);
            a.set_q_value(*q);
        }
        let mut l = c
            .reborrow()
            .init_accept_encoding(self.accept_encoding.len() as u32);
        for (i, (t, q)) in self.accept_encoding.iter().enumerate() {
            let mut a = l.reborrow().get(i as u32);
            a.set_content_coding(t);
            a.set_q_value(*q);
        }
        let mut l = c.reborrow().init_additional_headers(self.headers.len() as u32);
        for (i, (n, v)) in self.headers.iter().enumerate() {
            let mut h = l.reborrow().get(i as u32);
            h.set_name(n);
            h.set_value(v);
        }
        let mut p = c.init_e_tag_precondition();
        let fill = |l: &Vec<(String, bool)>,
                    mut b: capnp::struct_list::Builder<'_, web_session::e_tag::Owned>| {
            for (i, (v, weak)) in l.iter().enumerate() {
                let mut e = b.reborrow().get(i as u32);
                e.set_value(v);
                e.set_weak(*weak);
            }
        };
        match &self.precondition {
            Precondition::None => p.set_none(()),
            Precondition::Exists => p.set_exists(()),
            Precondition::DoesntExist => p.set_doesnt_exist(()),
            Precondition::MatchesOneOf(l) => fill(l, p.init_matches_one_of(l.len() as u32)),
            Precondition::MatchesNoneOf(l) => fill(l, p.init_matches_none_of(l.len() as u32)),
        }
    }
}

fn rpc_error(e: capnp::Error) -> Response<Body> {
    response::text(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("ERROR: the grain failed to answer: {e}\n"),
    )
}

/// Sends `req` (whose path, without its leading `/`, is `path`) to `session`.
pub async fn forward(
    session: &web_session::Client,
    req: Request<Incoming>,
    path: String,
    host: HostKind,
) -> Response<Body> {
    match forward_inner(session, req, path, host).await {
        Ok(r) => r,
        Err(e) => rpc_error(e),
    }
}

async fn forward_inner(
    session: &web_session::Client,
    req: Request<Incoming>,
    path: String,
    host: HostKind,
) -> Result<Response<Body>, capnp::Error> {
    let (parts, body) = req.into_parts();
    let h = &parts.headers;
    let ctx = ContextIn::read(h, host);
    let inm = ctx.if_none_match();
    let (sink, rx) = BodySink::new();
    let stream: byte_stream::Client = capnp_rpc::new_client(sink);
    let mime = header(h, "content-type").unwrap_or_default();
    let encoding = header(h, "content-encoding").unwrap_or_default();
    let length = header(h, "content-length").and_then(|l| l.parse::<u64>().ok());
    let depth = header(h, "depth");
    let shallow = depth.as_deref() == Some("0");
    let destination = header(h, "destination").unwrap_or_default();
    let no_overwrite = header(h, "overwrite").is_some_and(|o| o.eq_ignore_ascii_case("f"));

    macro_rules! call {
        ($req:expr, |$p:ident| $extra:block) => {{
            let mut r = $req;
            {
                let mut $p = r.get();
                $p.set_path(&path);
                ctx.fill($p.reborrow().init_context(), stream.clone());
                $extra
            }
            let answer = r.send().promise.await?;
            response::to_http(answer.get()?, rx, host, inm)
        }};
    }

    let m = parts.method.clone();
    if (m == Method::POST || m == Method::PUT) && length.is_none_or(|l| l >= INLINE_BODY) {
        return streamed_upload(session, &m, path, ctx, stream, rx, host, mime, encoding, body).await;
    }
    let needs_body = !matches!(m, Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS);
    let bytes = if needs_body {
        body.collect()
            .await
            .map_err(|e| capnp::Error::failed(format!("reading the request body: {e}")))?
            .to_bytes()
    } else {
        Bytes::new()
    };
    let xml = || String::from_utf8_lossy(&bytes).into_owned();
    match m.as_str() {
        "GET" | "HEAD" => call!(session.get_request(), |p| {
            p.set_ignore_body(m == Method::HEAD);
        }),
        "POST" => call!(session.post_request(), |p| {
            let mut c = p.init_content();
            c.set_mime_type(&mime);
            c.set_encoding(&encoding);
            c.set_content(&bytes);
        }),
        "PUT" => call!(session.put_request(), |p| {
            let mut c = p.init_content();
            c.set_mime_type(&mime);
            c.set_encoding(&encoding);
            c.set_content(&bytes);
        }),
        "PATCH" => call!(session.patch_request(), |p| {
            let mut c = p.init_content();
            c.set_mime_type(&mime);
            c.set_encoding(&encoding);
            c.set_content(&bytes);
        }),
        "DELETE" => call!(session.delete_request(), |p| {}),
        "PROPFIND" => call!(session.propfind_request(), |p| {
            p.set_xml_content(xml());
            p.set_depth(match depth.as_deref() {
                Some("0") => PropfindDepth::Zero,
                Some("1") => PropfindDepth::One,
                _ => PropfindDepth::Infinity,
            });
        }),
        "PROPPATCH" => call!(session.proppatch_request(), |p| {
            p.set_xml_content(xml());
        }),
        "MKCOL" => call!(session.mkcol_request(), |p| {
            let mut c = p.init_content();
            c.set_mime_type(&mime);
            c.set_encoding(&encoding);
            c.set_content(&bytes);
        }),
        "COPY" => call!(session.copy_request(), |p| {
            p.set_destination(&destination);
            p.set_no_overwrite(no_overwrite);
            p.set_shallow(shallow);
        }),
        "MOVE" => call!(session.move_request(), |p| {
            p.set_destination(&destination);
            p.set_no_overwrite(no_overwrite);
        }),
        "LOCK" => call!(session.lock_request(), |p| {
            p.set_xml_content(xml());
            p.set_shallow(shallow);
        }),
        "UNLOCK" => call!(session.unlock_request(), |p| {
            p.set_lock_token(header(h, "lock-token").unwrap_or_default());
        }),
        "ACL" => call!(session.acl_request(), |p| {
            p.set_xml_content(xml());
        }),
        "REPORT" => call!(session.report_request(), |p| {
            let mut c = p.init_content();
            c.set_mime_type(&mime);
            c.set_encoding(&encoding);
            c.set_content(&bytes);
        }),
        "OPTIONS" => options(session, path, ctx, stream, h, host).await,
        other => Ok(response::text(
            StatusCode::NOT_IMPLEMENTED,
            format!("the gateway does not pass {other} requests to grains\n"),
        )),
    }
}

/// OPTIONS: the app's DAV classes; on API hosts, the CORS preflight answer as well.
async fn options(
    session: &web_session::Client,
    path: String,
    ctx: ContextIn,
    stream: byte_stream::Client,
    h: &hyper::HeaderMap,
    host: HostKind,
) -> Result<Response<Body>, capnp::Error> {
    let mut r = session.options_request();
    {
        let mut p = r.get();
        p.set_path(&path);
        ctx.fill(p.init_context(), stream);
    }
    let mut dav = Vec::new();
    // An app without OPTIONS gets an empty 200, as Sandstorm answers.
    if let Ok(answer) = r.send().promise.await {
        let o = answer.get()?;
        for (on, class) in [
            (o.get_dav_class1(), "1"),
            (o.get_dav_class2(), "2"),
            (o.get_dav_class3(), "3"),
        ] {
            if on {
                dav.push(class.to_string());
            }
        }
        for e in o.get_dav_extensions()? {
            dav.push(e?.to_string().unwrap_or_default());
        }
    }
    let mut resp = response::text(StatusCode::OK, "");
    let hm = resp.headers_mut();
    if !dav.is_empty() {
        if let Ok(v) = dav.join(", ").parse() {
            hm.insert("dav", v);
        }
    }
    if host == HostKind::Api {
        response::api_headers(hm, &[]);
        cors_preflight(h, hm);
    }
    Ok(resp)
}

/// Sandstorm's preflight answer on API hosts.
pub fn cors_preflight(req: &hyper::HeaderMap, out: &mut hyper::HeaderMap) {
    let mut methods = String::from("GET, HEAD, POST, PUT, PATCH, DELETE");
    if let Some(m) = header(req, "access-control-request-method") {
        methods.push_str(", ");
        methods.push_str(&m);
    }
    let mut set = |n: &'static str, v: String| {
        if let Ok(v) = v.parse() {
            out.insert(n, v);
        }
    };
    set("access-control-allow-methods", methods);
    set("access-control-max-age", "3600".into());
    if let Some(hs) = header(req, "access-control-request-headers") {
        set("access-control-allow-headers", hs);
    }
}

/// POST/PUT with a large or unsized body: the body is written to the bridge as it arrives.
#[allow(clippy::too_many_arguments)]
async fn streamed_upload(
    session: &web_session::Client,
    m: &Method,
    path: String,
    ctx: ContextIn,
    stream: byte_stream::Client,
    rx: tokio::sync::mpsc::UnboundedReceiver<crate::streams::Chunk>,
    host: HostKind,
    mime: String,
    encoding: String,
    mut body: Incoming,
) -> Result<Response<Body>, capnp::Error> {
    let inm = ctx.if_none_match();
    let upload = if *m == Method::POST {
        let mut r = session.post_streaming_request();
        {
            let mut p = r.get();
            p.set_path(&path);
            p.set_mime_type(&mime);
            p.set_encoding(&encoding);
            ctx.fill(p.init_context(), stream);
        }
        r.send().pipeline.get_stream()
    } else {
        let mut r = session.put_streaming_request();
        {
            let mut p = r.get();
            p.set_path(&path);
            p.set_mime_type(&mime);
            p.set_encoding(&encoding);
            ctx.fill(p.init_context(), stream);
        }
        r.send().pipeline.get_stream()
    };
    let bytes: byte_stream::Client = upload.client.clone().cast_to();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| capnp::Error::failed(format!("reading the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            // 1 MiB a call keeps messages well under the RPC's size limit.
            for piece in data.chunks(1 << 20) {
                let mut w = bytes.write_request();
                w.get().set_data(piece);
                w.send().await?;
            }
        }
    }
    bytes.done_request().send().promise.await?;
    let answer = upload.get_response_request().send().promise.await?;
    response::to_http(answer.get()?, rx, host, inm)
}
