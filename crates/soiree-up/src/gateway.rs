//! The gateway on `127.0.0.1:PORT`: what it keeps (grains, API tokens, sessions, grants), routing
//! by `Host` — the shell on `localhost` (`shell_routes.rs`), each grain's UI on
//! `ui-<grain>.localhost` (`ui_host.rs`), API hosts `api-<hash>.localhost` (`api_host.rs`) —
//! and the hyper accept loop.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use soiree_schema::web_session_capnp::web_session;

use crate::api_tokens::Tokens;
use crate::grain::ViewInfo;
use crate::identity::Identity;
use crate::lifecycle::Slot;
use crate::powerbox::{self, Descriptor, Grants, Offer};
use crate::request::{self};
use crate::response::{self, Body, HostKind};
use crate::restorable::Registry;
use crate::websocket;

/// The grains `up` hosts and the sessions open to them.
pub struct Gateway {
    pub port: u16,
    pub grains: BTreeMap<String, Rc<Slot>>,
    /// The capabilities the host can rebuild (identities, links).
    pub(crate) registry: Rc<Registry>,
    /// API tokens: the grain each opens, as whom, until when.
    pub(crate) tokens: RefCell<Tokens>,
    pub(crate) ui_sessions: RefCell<HashMap<(String, Identity), web_session::Client>>,
    /// By token and the client address passed to the grain (one session per address, as on
    /// Sandstorm, since the address is fixed when the session opens).
    pub(crate) api_sessions: RefCell<HashMap<(String, Option<IpAddr>), web_session::Client>>,
    /// What the grains export through the Powerbox.
    pub(crate) offers: Vec<Offer>,
    pub(crate) grants: Grants,
    /// Offer templates rendered for `renderTemplate`, by key.
    pub(crate) templates: RefCell<HashMap<String, String>>,
}

/// Where a request is going, from its `Host`.
enum Route {
    Shell,
    Ui(String),
    Api,
}

fn route(req: &Request<Incoming>) -> Route {
    let host = req
        .headers()
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or("")
        .to_ascii_lowercase();
    let name = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
    let Some(sub) = name.strip_suffix(".localhost") else {
        return Route::Shell;
    };
    if sub == "api" || sub.starts_with("api-") {
        Route::Api
    } else if let Some(grain) = sub.strip_prefix("ui-") {
        Route::Ui(grain.to_string())
    } else {
        Route::Shell
    }
}

pub(crate) fn query_param(req: &Request<Incoming>, key: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

pub(crate) fn cookie(req: &Request<Incoming>, key: &str) -> Option<String> {
    req.headers()
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == key).then(|| v.to_string())
        })
}

pub(crate) fn tab_id(seed: &str) -> [u8; 16] {
    let d = Sha256::digest(format!("tab:{seed}").as_bytes());
    let mut t = [0u8; 16];
    t.copy_from_slice(&d[..16]);
    t
}

impl Gateway {
    pub fn new(registry: Rc<Registry>, grains: BTreeMap<String, Rc<Slot>>, offers: Vec<Offer>) -> Gateway {
        Gateway {
            port: registry.port,
            grains,
            registry,
            tokens: RefCell::new(Tokens::default()),
            ui_sessions: RefCell::new(HashMap::new()),
            api_sessions: RefCell::new(HashMap::new()),
            offers,
            grants: Rc::new(RefCell::new(HashMap::new())),
            templates: RefCell::new(HashMap::new()),
        }
    }

    /// The offers matching a request, in the order the grains were started.
    pub fn options(&self, query: &[Descriptor]) -> Vec<Offer> {
        self.offers
            .iter()
            .filter(|o| powerbox::matches(query, o))
            .cloned()
            .collect()
    }

    /// Drops the sessions open to a stopped grain: the next request opens new ones, starting it.
    pub fn forget(&self, grain: &str) {
        self.ui_sessions.borrow_mut().retain(|(g, _), _| g != grain);
        let tokens = self.tokens.borrow();
        self.api_sessions
            .borrow_mut()
            .retain(|(t, _), _| tokens.grain_of(t).is_some_and(|g| g != grain));
    }

    pub(crate) fn ui_origin(&self, grain: &str) -> String {
        format!("http://ui-{grain}.localhost:{}", self.port)
    }

    pub(crate) fn view_of(&self, grain: &str) -> Option<ViewInfo> {
        self.grains.get(grain).map(|g| g.view_info.clone())
    }

    /// One request from `peer` (the socket's other end).
    pub async fn handle(
        self: Rc<Self>,
        req: Request<Incoming>,
        peer: IpAddr,
    ) -> Result<Response<Body>, std::convert::Infallible> {
        let resp = match route(&req) {
            Route::Shell => self.shell(req).await,
            Route::Ui(grain) => self.ui(req, grain).await,
            Route::Api => self.api(req, peer).await,
        };
        Ok(resp)
    }

    pub(crate) async fn send(
        &self,
        session: &web_session::Client,
        req: Request<Incoming>,
        path: String,
        host: HostKind,
    ) -> Response<Body> {
        if websocket::is_upgrade(&req) {
            websocket::open(session, req, path, host).await
        } else {
            request::forward(session, req, path, host).await
        }
    }
}

/// The request's path and query without the leading `/` (and without the token prefix).
pub(crate) fn path_of(req: &Request<Incoming>, token: Option<&str>) -> String {
    let pq = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let pq = match token {
        Some(t) => pq.strip_prefix(&format!("/.sandstorm-token/{t}")).unwrap_or(pq),
        None => pq,
    };
    pq.strip_prefix('/').unwrap_or(pq).to_string()
}

pub(crate) fn json(status: StatusCode, v: serde_json::Value) -> Response<Body> {
    let mut r = Response::new(response::full(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn json_error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, serde_json::json!({ "error": message }))
}

pub(crate) fn html(body: String) -> Response<Body> {
    let mut r = Response::new(response::full(body));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    r
}

/// Serves HTTP on `listener` until the task is dropped.
pub async fn serve(gateway: Rc<Gateway>, listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, peer)): Result<(tokio::net::TcpStream, SocketAddr), _> = listener.accept().await
        else {
            continue;
        };
        let gw = gateway.clone();
        tokio::task::spawn_local(async move {
            let service = hyper::service::service_fn(move |req| gw.clone().handle(req, peer.ip()));
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades();
            let _ = conn.await;
        });
    }
}
