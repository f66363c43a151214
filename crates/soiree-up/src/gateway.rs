//! The gateway on `127.0.0.1:PORT`: the shell on `localhost`, each grain's UI on
//! `ui-<grain>.localhost` (the picker's choice kept in a cookie the app never sees), and API
//! hosts `api-<hash>.localhost` taking `/.sandstorm-token/<token>/…` or `Authorization: Bearer`.
//! Sessions are opened with `UiView.newSession` and kept per grain and identity (UI) or token (API).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::rc::Rc;

use capnp::capability::FromClientHook;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use soiree_schema::grain_capnp::session_context;
use soiree_schema::interface_ids;
use soiree_schema::web_session_capnp::web_session;

use crate::grain::ViewInfo;
use crate::identity::Identity;
use crate::lifecycle::Slot;
use crate::powerbox::{self, Descriptor, Grant, Grants, Offer, RequestContext};
use crate::request::{self, GATEWAY_COOKIE};
use crate::response::{self, Body, HostKind};
use crate::session::Context;
use crate::shell;
use crate::websocket;

/// The grains `up` hosts and the sessions open to them.
pub struct Gateway {
    pub port: u16,
    pub grains: BTreeMap<String, Rc<Slot>>,
    /// API token → grain name.
    tokens: RefCell<HashMap<String, String>>,
    ui_sessions: RefCell<HashMap<(String, Identity), web_session::Client>>,
    api_sessions: RefCell<HashMap<String, web_session::Client>>,
    /// What the grains export through the Powerbox.
    offers: Vec<Offer>,
    grants: Grants,
    /// Offer templates rendered for `renderTemplate`, by key.
    templates: RefCell<HashMap<String, String>>,
}

/// Where a request is going, from its `Host`.
enum Route {
    Shell,
    Ui(String),
    Api,
}

/// The host id Sandstorm gives a token's dedicated API host: the first 32 hex digits of
/// SHA-256 of `"x" + token`.
pub fn api_host_id(token: &str) -> String {
    let d = Sha256::digest(format!("x{token}").as_bytes());
    data_encoding::HEXLOWER.encode(&d)[..32].to_string()
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

fn query_param(req: &Request<Incoming>, key: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

fn cookie(req: &Request<Incoming>, key: &str) -> Option<String> {
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

fn tab_id(seed: &str) -> [u8; 16] {
    let d = Sha256::digest(format!("tab:{seed}").as_bytes());
    let mut t = [0u8; 16];
    t.copy_from_slice(&d[..16]);
    t
}

impl Gateway {
    pub fn new(port: u16, grains: BTreeMap<String, Rc<Slot>>, offers: Vec<Offer>) -> Gateway {
        Gateway {
            port,
            grains,
            tokens: RefCell::new(HashMap::new()),
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

    /// Grants `requester`'s request (made in the session of `who`) with the API `api` of grain
    /// `provider`: a request session at the provider, whose bridge fulfils it; the capability is
    /// kept under a new request token for the requesting session. Returns the token and the
    /// granted descriptor (packed, base64), as the shell answers `powerboxRequest`.
    pub async fn grant(
        &self,
        requester: &str,
        who: &Identity,
        query: &[Descriptor],
        provider: &str,
        api: &str,
    ) -> Result<(String, String), String> {
        if !self.grains.contains_key(requester) {
            return Err(format!("no grain named {requester:?}"));
        }
        let offered: Vec<&str> = self
            .offers
            .iter()
            .filter(|o| o.grain == provider)
            .map(|o| o.name.as_str())
            .collect();
        let Some(offer) = self.offers.iter().find(|o| o.grain == provider && o.name == api) else {
            return Err(if offered.is_empty() {
                format!("grain {provider:?} offers nothing through the Powerbox")
            } else {
                format!(
                    "grain {provider:?} offers no API {api:?} (it offers: {})",
                    offered.join(", ")
                )
            });
        };
        if !powerbox::matches(query, offer) {
            return Err(format!(
                "{provider}'s API {api:?} ({}) does not match the request",
                offer.canonical_url.as_deref().unwrap_or("no canonical URL")
            ));
        }
        let rpc = |e: capnp::Error| format!("{provider}: the request session failed: {e}");
        let Some(slot) = self.grains.get(provider) else {
            return Err(format!("no grain named {provider:?}"));
        };
        let view = slot.view_info.clone();
        let ui_view = slot.ui_view().await.map_err(rpc)?;
        let slot = Rc::new(RefCell::new(None));
        let context: session_context::Client = capnp_rpc::new_client(RequestContext { slot: slot.clone() });
        let mut r = ui_view.new_request_session_request();
        {
            let mut p = r.get();
            Identity::Owner.fill(&view, self.port, p.reborrow().init_user_info());
            p.set_context(context);
            p.set_session_type(interface_ids::WEB_SESSION);
            p.set_tab_id(&tab_id(&format!("request/{requester}/{provider}")));
            let mut params: web_session::params::Builder = p.reborrow().init_session_params().init_as();
            params.set_base_path(self.ui_origin(provider));
            let mut list = p.init_request_info(query.len() as u32);
            for (i, d) in query.iter().enumerate() {
                let msg = capnp::serialize_packed::read_message(
                    &mut &d.packed[..],
                    capnp::message::ReaderOptions::new(),
                )
                .map_err(|e| e.to_string())?;
                let root: soiree_schema::powerbox_capnp::powerbox_descriptor::Reader =
                    msg.get_root().map_err(|e| e.to_string())?;
                list.set_with_caveats(i as u32, root).map_err(|e| e.to_string())?;
            }
        }
        let answer = r.send().promise.await.map_err(rpc)?;
        let session: web_session::Client = answer.get().and_then(|a| a.get_session()).map_err(rpc)?.cast_to();
        // The bridge's own picker page posts the chosen API's name to its root.
        let mut post = session.post_request();
        {
            let mut p = post.get();
            p.set_path("");
            let mut c = p.reborrow().init_content();
            c.set_mime_type("text/plain");
            c.set_content(api.as_bytes());
            let (sink, _rx) = crate::streams::BodySink::new();
            p.init_context().set_response_stream(capnp_rpc::new_client(sink));
        }
        post.send().promise.await.map_err(rpc)?;
        let Some(fulfilled) = slot.borrow_mut().take() else {
            return Err(format!("{provider}'s bridge did not fulfil the request"));
        };
        // The bridge hands over a promise (it loads the granting user's profile first). Calls
        // forwarded to a promise that resolves while a call is being built are copied by
        // capnp-rpc without their capabilities and fail, so only the settled capability is kept.
        let cap = crate::host::settled(fulfilled.cap).await.map_err(rpc)?;
        let token = crate::host::new_token().map_err(|e| e.to_string())?;
        self.grants.borrow_mut().insert(
            token.clone(),
            Grant {
                session: (requester.to_string(), who.clone()),
                cap,
                claimed: false,
            },
        );
        Ok((token, data_encoding::BASE64.encode(&fulfilled.descriptor)))
    }

    /// Drops the sessions open to a stopped grain: the next request opens new ones, starting it.
    pub fn forget(&self, grain: &str) {
        self.ui_sessions.borrow_mut().retain(|(g, _), _| g != grain);
        let tokens = self.tokens.borrow();
        self.api_sessions
            .borrow_mut()
            .retain(|t, _| tokens.get(t).is_some_and(|g| g != grain));
    }

    /// A new API token for `grain`, acting as its owner.
    pub fn mint_token(&self, grain: &str) -> Result<String, capnp::Error> {
        let token = crate::host::new_token()?;
        self.tokens.borrow_mut().insert(token.clone(), grain.to_string());
        Ok(token)
    }

    /// The URL a client uses with `token`: its dedicated API host.
    pub fn api_url(&self, token: &str) -> String {
        format!("http://api-{}.localhost:{}/", api_host_id(token), self.port)
    }

    fn ui_origin(&self, grain: &str) -> String {
        format!("http://ui-{grain}.localhost:{}", self.port)
    }

    fn view_of(&self, grain: &str) -> Option<ViewInfo> {
        self.grains.get(grain).map(|g| g.view_info.clone())
    }

    pub async fn handle(
        self: Rc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Body>, std::convert::Infallible> {
        let resp = match route(&req) {
            Route::Shell => self.shell(req).await,
            Route::Ui(grain) => self.ui(req, grain).await,
            Route::Api => self.api(req).await,
        };
        Ok(resp)
    }

    async fn shell(&self, req: Request<Incoming>) -> Response<Body> {
        let path = req.uri().path().to_string();
        if req.method() == hyper::Method::POST && path.starts_with("/_soiree/") {
            return self.shell_api(req, &path).await;
        }
        if let Some(key) = path
            .strip_prefix("/_soiree/picture/")
            .and_then(|k| k.strip_suffix(".svg"))
        {
            let name = match key {
                "owner" => "Owner",
                "anonymous" => "Anonymous",
                _ => "Guest",
            };
            let mut r = response::text(StatusCode::OK, crate::identity::picture_svg(name));
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("image/svg+xml"),
            );
            return r;
        }
        if let Some(key) = path.strip_prefix("/_soiree/offer/") {
            return match self.templates.borrow().get(key) {
                Some(t) => response::text(StatusCode::OK, t.clone()),
                None => response::text(StatusCode::NOT_FOUND, "no such offer template\n"),
            };
        }
        if path == "/" {
            let tokens = self.tokens.borrow();
            let listed: Vec<shell::Listed> = self
                .grains
                .iter()
                .map(|(name, g)| shell::Listed {
                    name: name.clone(),
                    api_url: tokens
                        .iter()
                        .filter(|(_, n)| *n == name)
                        .map(|(t, _)| format!("{}.sandstorm-token/{t}/", self.api_url(t)))
                        .next()
                        .unwrap_or_default(),
                    wake_locks: g.state.borrow().wake_lock_captions(),
                    running: g.is_running(),
                })
                .collect();
            return html(shell::index(&listed));
        }
        if let Some(rest) = path.strip_prefix("/grain/") {
            let name = rest.trim_end_matches('/');
            if let Some(view) = self.view_of(name) {
                let who = query_param(&req, "as")
                    .and_then(|k| Identity::parse(&k, &view))
                    .unwrap_or(Identity::Owner);
                // Where the frame opens: a path of the grain (letters, digits and `/-_.` only).
                let path = query_param(&req, "path")
                    .filter(|p| {
                        p.starts_with('/')
                            && p.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c))
                    })
                    .unwrap_or_else(|| "/".into());
                return html(shell::grain_page(name, &self.ui_origin(name), &path, &view, &who));
            }
            return response::text(StatusCode::NOT_FOUND, format!("no grain named {name:?}\n"));
        }
        response::text(StatusCode::NOT_FOUND, "not found\n")
    }

    /// The shell page's calls: Powerbox options and grants, offer templates.
    async fn shell_api(&self, req: Request<Incoming>, path: &str) -> Response<Body> {
        use http_body_util::BodyExt;
        let body = match req.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => return json_error(StatusCode::BAD_REQUEST, &e.to_string()),
        };
        let v: serde_json::Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return json_error(StatusCode::BAD_REQUEST, &format!("not JSON: {e}")),
        };
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let query = || -> Result<Vec<Descriptor>, String> {
            let list: Vec<String> = v
                .get("query")
                .and_then(|q| q.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            powerbox::parse_query(&list)
        };
        match path {
            "/_soiree/powerbox/options" => match query() {
                Ok(q) => {
                    let options: Vec<serde_json::Value> = self
                        .options(&q)
                        .into_iter()
                        .map(|o| serde_json::json!({"grain": o.grain, "api": o.name, "title": o.title}))
                        .collect();
                    json(StatusCode::OK, serde_json::json!({ "options": options }))
                }
                Err(e) => json_error(StatusCode::BAD_REQUEST, &e),
            },
            "/_soiree/powerbox/grant" => {
                let q = match query() {
                    Ok(q) => q,
                    Err(e) => return json_error(StatusCode::BAD_REQUEST, &e),
                };
                let requester = s("grain");
                let Some(view) = self.view_of(&requester) else {
                    return json_error(StatusCode::BAD_REQUEST, &format!("no grain named {requester:?}"));
                };
                let who = Identity::parse(&s("as"), &view).unwrap_or(Identity::Owner);
                match self.grant(&requester, &who, &q, &s("provider"), &s("api")).await {
                    Ok((token, descriptor)) => json(
                        StatusCode::OK,
                        serde_json::json!({ "token": token, "descriptor": descriptor }),
                    ),
                    Err(e) => json_error(StatusCode::BAD_REQUEST, &e),
                }
            }
            "/_soiree/template" => {
                let grain = s("grain");
                if self.view_of(&grain).is_none() {
                    return json_error(StatusCode::BAD_REQUEST, &format!("no grain named {grain:?}"));
                }
                let template = s("template");
                if template.is_empty() {
                    return json_error(StatusCode::BAD_REQUEST, "renderTemplate without a template");
                }
                let (token, key) = match (self.mint_token(&grain), crate::host::new_token()) {
                    (Ok(t), Ok(k)) => (t, k),
                    _ => return json_error(StatusCode::INTERNAL_SERVER_ERROR, "no randomness"),
                };
                let host = format!("api-{}.localhost:{}", api_host_id(&token), self.port);
                let text = template
                    .replace("$API_TOKEN", &token)
                    .replace("$API_HOST", &host)
                    .replace("$GRAIN_TITLE_SLUG", &grain);
                self.templates.borrow_mut().insert(key.clone(), text);
                let uri = format!("http://127.0.0.1:{}/_soiree/offer/{key}", self.port);
                json(StatusCode::OK, serde_json::json!({ "uri": uri }))
            }
            _ => json_error(StatusCode::NOT_FOUND, "no such call"),
        }
    }

    async fn ui(&self, req: Request<Incoming>, grain: String) -> Response<Body> {
        let Some(view) = self.view_of(&grain) else {
            return response::text(StatusCode::NOT_FOUND, format!("no grain named {grain:?}\n"));
        };
        if req.uri().path() == "/_soiree-init" {
            // Like Sandstorm's /_sandstorm-init: the shell's choice becomes this host's cookie.
            let who = query_param(&req, "as")
                .and_then(|k| Identity::parse(&k, &view))
                .unwrap_or(Identity::Owner);
            let path = query_param(&req, "path")
                .filter(|p| p.starts_with('/'))
                .unwrap_or("/".into());
            let mut r = response::text(StatusCode::SEE_OTHER, "");
            if let (Ok(loc), Ok(c)) = (
                path.parse(),
                format!("{GATEWAY_COOKIE}={}; Path=/; HttpOnly", who.key()).parse(),
            ) {
                r.headers_mut().insert(hyper::header::LOCATION, loc);
                r.headers_mut().insert(hyper::header::SET_COOKIE, c);
            }
            return r;
        }
        let who = cookie(&req, GATEWAY_COOKIE)
            .and_then(|k| Identity::parse(&k, &view))
            .unwrap_or(Identity::Owner);
        let session = match self.ui_session(&grain, &who, &view, &req).await {
            Ok(s) => s,
            Err(e) => return response::text(StatusCode::BAD_GATEWAY, format!("ERROR: {e}\n")),
        };
        let path = path_of(&req, None);
        self.send(&session, req, path, HostKind::Ui).await
    }

    async fn send(
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

    async fn api(&self, req: Request<Incoming>) -> Response<Body> {
        let bearer = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_string())
            });
        let in_path = req
            .uri()
            .path()
            .strip_prefix("/.sandstorm-token/")
            .map(|rest| rest.split('/').next().unwrap_or("").to_string());
        let Some(token) = bearer.clone().or(in_path.clone()) else {
            if req.method() == hyper::Method::OPTIONS {
                let mut r = response::text(StatusCode::OK, "");
                response::api_headers(r.headers_mut(), &[]);
                request::cors_preflight(req.headers(), r.headers_mut());
                return r;
            }
            let mut r = response::text(
                StatusCode::UNAUTHORIZED,
                "Missing or invalid authorization header: give the API token as \
                 `Authorization: Bearer <token>` or in the path /.sandstorm-token/<token>/\n",
            );
            if let Ok(v) = "Basic realm='Sandstorm API'".parse() {
                r.headers_mut().insert(hyper::header::WWW_AUTHENTICATE, v);
            }
            return r;
        };
        let grain = self.tokens.borrow().get(&token).cloned();
        let Some(grain) = grain else {
            let mut r = response::text(StatusCode::FORBIDDEN, "Invalid authorization token\n");
            response::api_headers(r.headers_mut(), &[]);
            return r;
        };
        let session = match self.api_session(&grain, &token).await {
            Ok(s) => s,
            Err(e) => return response::text(StatusCode::BAD_GATEWAY, format!("ERROR: {e}\n")),
        };
        let strip = if bearer.is_some() {
            None
        } else {
            Some(token.as_str())
        };
        let path = path_of(&req, strip);
        let mut resp = self.send(&session, req, path, HostKind::Api).await;
        if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
            return resp;
        }
        response::api_headers(resp.headers_mut(), &[]);
        resp
    }

    async fn ui_session(
        &self,
        grain: &str,
        who: &Identity,
        view: &ViewInfo,
        req: &Request<Incoming>,
    ) -> Result<web_session::Client, capnp::Error> {
        let key = (grain.to_string(), who.clone());
        if let Some(slot) = self.grains.get(grain) {
            slot.used.set(true);
        }
        if let Some(s) = self.ui_sessions.borrow().get(&key) {
            return Ok(s.clone());
        }
        let ui_view = match self.grains.get(grain) {
            Some(g) => g.ui_view().await?,
            None => return Err(capnp::Error::failed(format!("no grain named {grain:?}"))),
        };
        let user_agent = req
            .headers()
            .get(hyper::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("UnknownAgent/0.0")
            .to_string();
        let languages: Vec<String> = req
            .headers()
            .get(hyper::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .filter_map(|l| l.split(';').next())
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect()
            })
            .unwrap_or_else(|| vec!["en-US".into(), "en".into()]);
        let context: session_context::Client = capnp_rpc::new_client(Context {
            session: Some(key.clone()),
            permissions: who.permissions(view),
            grants: self.grants.clone(),
        });
        let mut r = ui_view.new_session_request();
        {
            let mut p = r.get();
            who.fill(view, self.port, p.reborrow().init_user_info());
            p.set_context(context);
            p.set_session_type(interface_ids::WEB_SESSION);
            p.set_tab_id(&tab_id(&format!("{grain}/{}", who.key())));
            let mut params: web_session::params::Builder = p.init_session_params().init_as();
            params.set_base_path(self.ui_origin(grain));
            params.set_user_agent(&user_agent);
            let mut l = params.init_acceptable_languages(languages.len() as u32);
            for (i, lang) in languages.iter().enumerate() {
                l.set(i as u32, lang);
            }
        }
        let session: web_session::Client = r.send().promise.await?.get()?.get_session()?.cast_to();
        self.ui_sessions.borrow_mut().insert(key, session.clone());
        Ok(session)
    }

    async fn api_session(&self, grain: &str, token: &str) -> Result<web_session::Client, capnp::Error> {
        if let Some(slot) = self.grains.get(grain) {
            slot.used.set(true);
        }
        if let Some(s) = self.api_sessions.borrow().get(token) {
            return Ok(s.clone());
        }
        let (ui_view, view) = match self.grains.get(grain) {
            Some(g) => (g.ui_view().await?, g.view_info.clone()),
            None => return Err(capnp::Error::failed(format!("no grain named {grain:?}"))),
        };
        let context: session_context::Client = capnp_rpc::new_client(Context {
            session: None,
            permissions: Identity::Owner.permissions(&view),
            grants: self.grants.clone(),
        });
        let mut r = ui_view.new_session_request();
        {
            let mut p = r.get();
            Identity::Owner.fill(&view, self.port, p.reborrow().init_user_info());
            p.set_context(context);
            p.set_session_type(interface_ids::API_SESSION);
            let t = Sha256::digest(token.as_bytes());
            p.set_tab_id(&tab_id(&data_encoding::BASE64.encode(&t)));
            let _: soiree_schema::web_session_capnp::api_session::params::Builder =
                p.init_session_params().init_as();
        }
        let session: web_session::Client = r.send().promise.await?.get()?.get_session()?.cast_to();
        self.api_sessions
            .borrow_mut()
            .insert(token.to_string(), session.clone());
        Ok(session)
    }
}

/// The request's path and query without the leading `/` (and without the token prefix).
fn path_of(req: &Request<Incoming>, token: Option<&str>) -> String {
    let pq = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let pq = match token {
        Some(t) => pq.strip_prefix(&format!("/.sandstorm-token/{t}")).unwrap_or(pq),
        None => pq,
    };
    pq.strip_prefix('/').unwrap_or(pq).to_string()
}

fn json(status: StatusCode, v: serde_json::Value) -> Response<Body> {
    let mut r = Response::new(response::full(v.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn json_error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, serde_json::json!({ "error": message }))
}

fn html(body: String) -> Response<Body> {
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
        let Ok((stream, _peer)): Result<(tokio::net::TcpStream, SocketAddr), _> = listener.accept().await
        else {
            continue;
        };
        let gw = gateway.clone();
        tokio::task::spawn_local(async move {
            let service = hyper::service::service_fn(move |req| gw.clone().handle(req));
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades();
            let _ = conn.await;
        });
    }
}
