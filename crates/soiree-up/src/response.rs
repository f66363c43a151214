//! A bridge's `WebSession.Response` turned back into HTTP as Sandstorm's gateway does it: the
//! status table, kept headers, cookies on UI hosts only, error bodies as HTML, streamed bodies,
//! and the headers the gateway adds (API hosts: CORS and a sandboxing CSP).

use bytes::Bytes;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use soiree_schema::web_session_capnp::web_session::response;
use tokio::sync::mpsc;

use crate::streams::Chunk;

/// Every response body the gateway sends. Not `Send`: a streamed body holds the capability
/// that keeps the app's stream open, and capabilities live on the RPC system's thread.
pub struct Body(Pin<Box<dyn hyper::body::Body<Data = Bytes, Error = std::io::Error>>>);

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.0.as_mut().poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.0.size_hint()
    }
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Body(Box::pin(Full::new(bytes.into()).map_err(|never| match never {})))
}

/// Which host a request came to: the headers added depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    Ui,
    Api,
}

/// A plain-text answer from the gateway itself.
pub fn text(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    let mut r = Response::new(full(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    r
}

fn success_code(c: response::SuccessCode) -> u16 {
    use response::SuccessCode as S;
    match c {
        S::Ok => 200,
        S::Created => 201,
        S::Accepted => 202,
        S::NoContent => 204,
        S::PartialContent => 206,
        S::MultiStatus => 207,
        S::NotModified => 304,
    }
}

fn client_error_code(c: response::ClientErrorCode) -> u16 {
    use response::ClientErrorCode as C;
    match c {
        C::BadRequest => 400,
        C::Forbidden => 403,
        C::NotFound => 404,
        C::MethodNotAllowed => 405,
        C::NotAcceptable => 406,
        C::Conflict => 409,
        C::Gone => 410,
        C::PreconditionFailed => 412,
        C::RequestEntityTooLarge => 413,
        C::RequestUriTooLong => 414,
        C::UnsupportedMediaType => 415,
        C::ImATeapot => 418,
        C::UnprocessableEntity => 422,
    }
}

fn txt(t: capnp::Result<capnp::text::Reader>) -> String {
    t.ok().and_then(|t| t.to_str().ok()).unwrap_or("").to_string()
}

fn etag(e: capnp::Result<soiree_schema::web_session_capnp::web_session::e_tag::Reader>) -> Option<String> {
    let e = e.ok()?;
    let v = e.get_value().ok()?.to_str().ok()?;
    Some(if e.get_weak() {
        format!("W/\"{v}\"")
    } else {
        format!("\"{v}\"")
    })
}

/// A response body streamed from the bridge's writes to the `ByteStream` the call carried.
/// `keep` (the call's `stream` handle) lives as long as the body.
fn streamed(rx: mpsc::UnboundedReceiver<Chunk>, keep: Box<dyn std::any::Any>) -> Body {
    // The state's `keep` is `None` once the stream has failed, which ends it.
    let stream = futures::stream::unfold((rx, Some(keep)), |(mut rx, keep)| async move {
        keep.as_ref()?;
        match rx.recv().await {
            Some(Chunk::Data(b)) => Some((Ok(Frame::data(b)), (rx, keep))),
            Some(Chunk::End) => None,
            None => Some((
                Err(std::io::Error::other("the grain's response ended early")),
                (rx, None),
            )),
        }
    });
    Body(Box::pin(StreamBody::new(stream)))
}

struct Out {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Body>,
}

impl Out {
    fn header(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.headers.push((name.to_string(), value));
        }
    }
}

/// Turns the bridge's answer into HTTP. `rx` receives the body when the app streams it;
/// `if_none_match` says which precondition the request had (304 or 412).
pub fn to_http(
    r: response::Reader,
    rx: mpsc::UnboundedReceiver<Chunk>,
    host: HostKind,
    if_none_match: bool,
) -> Result<Response<Body>, capnp::Error> {
    use response::Which as W;
    let mut out = Out {
        status: 500,
        headers: Vec::new(),
        body: None,
    };
    match r.which()? {
        W::Content(c) => {
            out.status = success_code(c.get_status_code()?);
            out.header("content-type", txt(c.get_mime_type()));
            out.header("content-encoding", txt(c.get_encoding()));
            out.header("content-language", txt(c.get_language()));
            if let Some(e) = etag(c.get_e_tag()) {
                out.header("etag", e);
            }
            if let response::content::disposition::Download(name) = c.get_disposition().which()? {
                let name = txt(name).replace('\\', "\\\\").replace('"', "\\\"");
                out.header("content-disposition", format!("attachment; filename=\"{name}\""));
            }
            out.body = Some(match c.get_body().which()? {
                response::content::body::Bytes(b) => full(Bytes::copy_from_slice(b?)),
                response::content::body::Stream(handle) => streamed(rx, Box::new(handle?)),
            });
        }
        W::NoContent(n) => {
            out.status = if n.get_should_reset_form() { 205 } else { 204 };
            if let Some(e) = etag(n.get_e_tag()) {
                out.header("etag", e);
            }
        }
        W::PreconditionFailed(p) => {
            out.status = if if_none_match { 304 } else { 412 };
            if let Some(e) = etag(p.get_matching_e_tag()) {
                out.header("etag", e);
            }
        }
        W::Redirect(r) => {
            out.status = match (r.get_is_permanent(), r.get_switch_to_get()) {
                (true, true) => 301,
                (false, true) => 303,
                (false, false) => 307,
                (true, false) => 308,
            };
            out.header("location", txt(r.get_location()));
            out.header("content-type", "text/plain; charset=UTF-8");
            out.body = Some(full("redirect"));
        }
        W::ClientError(e) => {
            out.status = client_error_code(e.get_status_code()?);
            error_body(&mut out, txt(e.get_description_html()), e.get_non_html_body());
        }
        W::ServerError(e) => {
            out.status = 500;
            error_body(&mut out, txt(e.get_description_html()), e.get_non_html_body());
        }
    }
    for h in r.get_additional_headers()? {
        out.header(&txt(h.get_name()), txt(h.get_value()));
    }
    if host == HostKind::Ui {
        for c in r.get_set_cookies()? {
            if let Some(line) = set_cookie(c) {
                out.headers.push(("set-cookie".into(), line));
            }
        }
    }
    out.header("referrer-policy", "same-origin");
    out.header("permissions-policy", "interest-cohort=()");
    let mut resp = Response::new(out.body.take().unwrap_or_else(|| full(Bytes::new())));
    *resp.status_mut() = StatusCode::from_u16(out.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let exposed: Vec<String> = out
        .headers
        .iter()
        .filter(|(n, _)| n.starts_with("x-sandstorm-app-") || n == "x-oc-mtime")
        .map(|(n, _)| n.clone())
        .collect();
    for (name, value) in out.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    if host == HostKind::Api {
        api_headers(resp.headers_mut(), &exposed);
    }
    Ok(resp)
}

/// The headers every API-host response carries (Sandstorm's `isApi` bridge).
pub fn api_headers(h: &mut hyper::HeaderMap, exposed: &[String]) {
    let mut expose = String::from("ETag");
    for e in exposed {
        expose.push_str(", ");
        expose.push_str(e);
    }
    for (n, v) in [
        ("vary", "Authorization".to_string()),
        ("access-control-allow-origin", "*".to_string()),
        (
            "content-security-policy",
            "default-src 'none'; sandbox".to_string(),
        ),
        ("access-control-expose-headers", expose),
    ] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(HeaderName::from_static(n), v);
        }
    }
}

/// 4xx/5xx bodies travel as HTML, or as the app's own body when it sent one that is not.
fn error_body(out: &mut Out, html: String, other: capnp::Result<response::error_body::Reader>) {
    if let Ok(b) = other {
        if let Ok(data) = b.get_data() {
            if !data.is_empty() {
                out.header("content-type", txt(b.get_mime_type()));
                out.header("content-encoding", txt(b.get_encoding()));
                out.header("content-language", txt(b.get_language()));
                out.body = Some(full(Bytes::copy_from_slice(data)));
                return;
            }
        }
    }
    out.header("content-type", "text/html; charset=UTF-8");
    out.body = Some(full(html));
}

/// One `Set-Cookie` line, or none when the cookie could not be written safely.
fn set_cookie(c: soiree_schema::web_session_capnp::web_session::cookie::Reader) -> Option<String> {
    use soiree_schema::web_session_capnp::web_session::cookie::expires::Which as E;
    let (name, value, path) = (txt(c.get_name()), txt(c.get_value()), txt(c.get_path()));
    let bad = |s: &str| s.contains(';') || s.contains(',');
    if name.is_empty() || name.contains('=') || bad(&name) || bad(&value) || bad(&path) {
        return None;
    }
    let mut line = format!("{name}={value}");
    if !path.is_empty() {
        line.push_str(&format!("; Path={path}"));
    }
    match c.get_expires().which().ok()? {
        E::None(()) => {}
        E::Absolute(t) => line.push_str(&format!("; Max-Age={}", absolute_to_max_age(t))),
        E::Relative(s) => line.push_str(&format!("; Max-Age={s}")),
    }
    if c.get_http_only() {
        line.push_str("; HttpOnly");
    }
    Some(line)
}

/// An absolute expiry as seconds from now (no date formatting needed; 0 if already past).
fn absolute_to_max_age(unix: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    (unix - now).max(0)
}
