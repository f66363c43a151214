//! API hosts `api-<hash>.localhost`: the token taken from `Authorization: Bearer` or the path
//! `/.sandstorm-token/<token>/`, kept alive by `X-Sandstorm-Token-Keepalive`, one `ApiSession`
//! per token (and per client address, for clients asking `X-Sandstorm-Passthrough: address`)
//! for whom the token acts as, with its permissions.

use std::net::IpAddr;
use std::time::Instant;

use capnp::capability::FromClientHook;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use soiree_schema::grain_capnp::session_context;
use soiree_schema::interface_ids;
use soiree_schema::web_session_capnp::web_session;

use crate::api_tokens::{ApiToken, Lookup, RoleAssignment, UNUSED_EXPIRY};
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
    /// The API token `up` prints for `grain`: acting as its owner, never expiring.
    pub fn mint_token(&self, grain: &str) -> Result<String, capnp::Error> {
        let token = crate::host::new_token()?;
        let permissions = self
            .view_of(grain)
            .map(|v| Identity::Owner.permissions(&v))
            .unwrap_or_default();
        self.tokens.borrow_mut().insert(
            token.clone(),
            ApiToken {
                grain: grain.to_string(),
                acting: Identity::Owner,
                permissions,
                petname: "soiree-pack up".into(),
                expires_if_unused: None,
                printed: true,
            },
        );
        Ok(token)
    }

    /// The token `renderTemplate` makes when `creator` views `grain` (§5.3): acting as
    /// `creator`, or as the anonymous user when `forSharing`; permissions by `roleAssignment`;
    /// expiring unless used; the same one again for the same parameters within a while.
    pub(crate) fn offer_token(
        &self,
        grain: &str,
        creator: &Identity,
        msg: &serde_json::Value,
        now: Instant,
    ) -> Result<String, String> {
        let view = self
            .view_of(grain)
            .ok_or_else(|| format!("no grain named {grain:?}"))?;
        let petname = match msg.get("petname") {
            None | Some(serde_json::Value::Null) => "connected external app".to_string(),
            Some(serde_json::Value::String(p)) => p.clone(),
            Some(other) => return Err(format!("petname {other}: give a string")),
        };
        let for_sharing = match msg.get("forSharing") {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::Bool(b)) => *b,
            Some(other) => return Err(format!("forSharing {other}: give true or false")),
        };
        let roles = RoleAssignment::parse(msg.get("roleAssignment"))?;
        let permissions = roles.permissions(creator, &view)?;
        let memo_key = serde_json::json!({
            "grain": grain,
            "as": creator.key(),
            "petname": petname,
            "roleAssignment": msg.get("roleAssignment"),
            "forSharing": for_sharing,
        })
        .to_string();
        let mut tokens = self.tokens.borrow_mut();
        if let Some(token) = tokens.memoized(&memo_key, now) {
            return Ok(token);
        }
        let token = crate::host::new_token().map_err(|e| e.to_string())?;
        tokens.insert(
            token.clone(),
            ApiToken {
                grain: grain.to_string(),
                acting: if for_sharing {
                    Identity::Anonymous
                } else {
                    creator.clone()
                },
                permissions,
                petname,
                expires_if_unused: Some(now + UNUSED_EXPIRY),
                printed: false,
            },
        );
        tokens.remember(memo_key, token.clone(), now);
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
        let now = Instant::now();
        let found = self.tokens.borrow_mut().check(&token, now);
        let Lookup::Valid(found) = found else {
            let mut r = response::text(StatusCode::FORBIDDEN, "Invalid authorization token\n");
            response::api_headers(r.headers_mut(), &[]);
            return r;
        };
        if let Some(v) = req.headers().get("x-sandstorm-token-keepalive") {
            // Kept from the grain: the offer page keeps its token alive while it is shown.
            let Some(ms) = v.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()) else {
                let mut r = response::text(
                    StatusCode::BAD_REQUEST,
                    "X-Sandstorm-Token-Keepalive: give milliseconds\n",
                );
                response::api_headers(r.headers_mut(), &[]);
                return r;
            };
            self.tokens.borrow_mut().keep_alive(&token, ms, now);
            let mut r = response::text(StatusCode::OK, "");
            response::api_headers(r.headers_mut(), &[]);
            return r;
        }
        self.tokens.borrow_mut().used(&token);
        let address = client_address::passes_address(req.headers())
            .then(|| client_address::real_ip(peer, req.headers()));
        let _busy = self.grains.get(found.grain.as_str()).map(|slot| slot.busy());
        let session = match self.api_session(&found, &token, address).await {
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
        found: &ApiToken,
        token: &str,
        address: Option<IpAddr>,
    ) -> Result<web_session::Client, capnp::Error> {
        let grain = found.grain.as_str();
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
            permissions: found.permissions.clone(),
            grants: self.grants.clone(),
        });
        let mut r = ui_view.new_session_request();
        {
            let mut p = r.get();
            found.acting.fill_with(
                &view,
                &self.registry,
                &found.permissions,
                p.reborrow().init_user_info(),
            );
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
