//! A grain's UI host `ui-<grain>.localhost`: the init redirect that turns the picker's choice
//! into a cookie the app never sees, and one `WebSession` per grain and identity.

use capnp::capability::FromClientHook;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use soiree_schema::grain_capnp::session_context;
use soiree_schema::interface_ids;
use soiree_schema::web_session_capnp::web_session;

use crate::gateway::{cookie, path_of, query_param, tab_id, Gateway};
use crate::grain::ViewInfo;
use crate::identity::Identity;
use crate::request::GATEWAY_COOKIE;
use crate::response::{self, Body, HostKind};
use crate::session::Context;

impl Gateway {
    pub(crate) async fn ui(&self, req: Request<Incoming>, grain: String) -> Response<Body> {
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
        // Until its response's head: a WebSocket's later messages are not calls the gateway sees.
        let _busy = self.grains.get(&grain).map(|slot| slot.busy());
        let session = match self.ui_session(&grain, &who, &view, &req).await {
            Ok(s) => s,
            Err(e) => return response::text(StatusCode::BAD_GATEWAY, format!("ERROR: {e}\n")),
        };
        let path = path_of(&req, None);
        self.send(&session, req, path, HostKind::Ui).await
    }

    pub(crate) async fn ui_session(
        &self,
        grain: &str,
        who: &Identity,
        view: &ViewInfo,
        req: &Request<Incoming>,
    ) -> Result<web_session::Client, capnp::Error> {
        let key = (grain.to_string(), who.clone());
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
            who.fill(view, &self.registry, p.reborrow().init_user_info());
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
}
