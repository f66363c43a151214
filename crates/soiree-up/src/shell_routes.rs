//! The shell's routes on `localhost`: the index, the page framing a grain, users' pictures,
//! rendered offer templates, and the page's calls (Powerbox options and grants, `renderTemplate`).

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};

use crate::api_host::api_host_id;
use crate::gateway::{html, json, json_error, query_param, Gateway};
use crate::identity::Identity;
use crate::powerbox::{self, Descriptor};
use crate::response::{self, Body};
use crate::shell;

impl Gateway {
    pub(crate) async fn shell(&self, req: Request<Incoming>) -> Response<Body> {
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
                Some(page) => html(page.clone()),
                None => response::text(StatusCode::NOT_FOUND, "no such offer template\n"),
            };
        }
        if path == "/" {
            let tokens = self.tokens.borrow();
            let printed = tokens.printed();
            let listed: Vec<shell::Listed> = self
                .grains
                .iter()
                .map(|(name, g)| shell::Listed {
                    name: name.clone(),
                    api_url: printed
                        .get(name.as_str())
                        .map(|t| format!("{}.sandstorm-token/{t}/", self.api_url(t)))
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
    pub(crate) async fn shell_api(&self, req: Request<Incoming>, path: &str) -> Response<Body> {
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
                let template = s("template");
                if template.is_empty() {
                    return json_error(StatusCode::BAD_REQUEST, "renderTemplate without a template");
                }
                let Some(view) = self.view_of(&grain) else {
                    return json_error(StatusCode::BAD_REQUEST, &format!("no grain named {grain:?}"));
                };
                let creator = Identity::parse(&s("as"), &view).unwrap_or(Identity::Owner);
                let token = match self.offer_token(&grain, &creator, &v, std::time::Instant::now()) {
                    Ok(t) => t,
                    Err(e) => return json_error(StatusCode::BAD_REQUEST, &e),
                };
                let Ok(key) = crate::host::new_token() else {
                    return json_error(StatusCode::INTERNAL_SERVER_ERROR, "no randomness");
                };
                let host = format!("api-{}.localhost:{}", api_host_id(&token), self.port);
                let text = template
                    .replace("$API_TOKEN", &token)
                    .replace("$API_HOST", &host)
                    .replace("$GRAIN_TITLE_SLUG", &grain);
                // Sandstorm's own offer page draws the copy button only where the app asks.
                let button = match s("clipboardButton").as_str() {
                    "" => None,
                    "left" => Some(shell::Side::Left),
                    "right" => Some(shell::Side::Right),
                    other => {
                        return json_error(
                            StatusCode::BAD_REQUEST,
                            &format!("clipboardButton {other:?}: use \"left\" or \"right\""),
                        )
                    }
                };
                let page = shell::offer_page(&text, button, &self.api_url(&token), &token);
                self.templates.borrow_mut().insert(key.clone(), page);
                let uri = format!("http://127.0.0.1:{}/_soiree/offer/{key}", self.port);
                json(StatusCode::OK, serde_json::json!({ "uri": uri }))
            }
            _ => json_error(StatusCode::NOT_FOUND, "no such call"),
        }
    }
}
