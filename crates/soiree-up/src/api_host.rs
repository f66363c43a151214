//! API hosts `api-<hash>.localhost`: tokens minted per grain (acting as its owner), taken from
//! `Authorization: Bearer` or the path `/.sandstorm-token/<token>/`, one `ApiSession` per token
//! (and per client address, for clients asking `X-Sandstorm-Passthrough: address`).

use std::net::IpAddr;

use capnp::capability::FromClientHook;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use soiree_schema::grain_capnp::session_context;
use soiree_schema::interface_ids;
use soiree_schema::web_session_capnp::web_session;

use crate::client_address;
use crate::gateway::{path_of, tab_id, Gateway};
use crate::identity::Identity;
use crate::request::{self};
use crate::response::{self, Body, HostKind};
use crate::session::Context;

/// The host id Sandstorm gives a token's dedicated API host: the first 32 hex digits of
/// SHA-256 of `"x" + token`.
pub fn api_host_id(token: &str) -> String {
    let d = Sha256::digest(format!("x{token}").as_bytes());
    data_encoding::HEXLOWER.encode(&d)[..32].to_string()
}

impl Gateway {
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

    pub(crate) async fn api(&self, req: Request<Incoming>, peer: IpAddr) -> Response<Body> {
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
        let address = client_address::passes_address(req.headers())
            .then(|| client_address::real_ip(peer, req.headers()));
        let session = match self.api_session(&grain, &token, address).await {
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

    pub(crate) async fn api_session(
        &self,
        grain: &str,
        token: &str,
        address: Option<IpAddr>,
    ) -> Result<web_session::Client, capnp::Error> {
        if let Some(slot) = self.grains.get(grain) {
            slot.used.set(true);
        }
        let key = (token.to_string(), address);
        if let Some(s) = self.api_sessions.borrow().get(&key) {
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
            Identity::Owner.fill(&view, &self.registry, p.reborrow().init_user_info());
            p.set_context(context);
            p.set_session_type(interface_ids::API_SESSION);
            let t = Sha256::digest(token.as_bytes());
            p.set_tab_id(&tab_id(&data_encoding::BASE64.encode(&t)));
            let params: soiree_schema::web_session_capnp::api_session::params::Builder =
                p.init_session_params().init_as();
            if let Some(ip) = address {
                let (upper, lower) = client_address::as_v6_halves(ip);
                let mut a = params.init_remote_address();
                a.set_upper64(upper);
                a.set_lower64(lower);
            }
        }
        let session: web_session::Client = r.send().promise.await?.get()?.get_session()?.cast_to();
        self.api_sessions.borrow_mut().insert(key, session.clone());
        Ok(session)
    }
}
