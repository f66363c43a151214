//! Links `up` makes itself once the grains are up (`--link`), as a person makes them in the
//! shell's picker: the request matched against the providing grain's exported APIs, the same
//! grant, and the request token delivered to the requesting grain's link service
//! (`POST /.soiree/links/<request>/claim` on its UI host, as its owner), which claims it through
//! its own bridge.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};

use crate::gateway::Gateway;
use crate::identity::Identity;
use crate::powerbox::{self, Descriptor, Offer};

/// A link to make: grain `requester`'s Powerbox request `request` (its descriptors, packed and
/// base64 as its page would pass them to `powerboxRequest`), granted with grain `provider`.
#[derive(Debug, Clone)]
pub struct LinkSpec {
    pub requester: String,
    pub request: String,
    pub query: Vec<String>,
    pub provider: String,
}

impl LinkSpec {
    /// `REQUESTER.REQUEST=PROVIDER`, as `--link` takes it.
    pub fn name(&self) -> String {
        format!("{}.{}={}", self.requester, self.request, self.provider)
    }
}

/// A link made: which of the provider's APIs was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub requester: String,
    pub request: String,
    pub provider: String,
    pub api: String,
    pub title: String,
}

/// The request's descriptors and the provider's API it will be granted with: the first of the
/// provider's offers that the picker would list for it. Checked before any grain starts.
pub fn plan(spec: &LinkSpec, grains: &[&str], offers: &[Offer]) -> Result<(Vec<Descriptor>, Offer), String> {
    for (role, name) in [("requesting", &spec.requester), ("providing", &spec.provider)] {
        if !grains.contains(&name.as_str()) {
            return Err(format!(
                "the {role} grain `{name}` is not one `up` starts (it starts: {})",
                grains.join(", ")
            ));
        }
    }
    if spec.request.is_empty()
        || !spec
            .request
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(format!(
            "the request name {:?} cannot be part of a URL path (letters, digits and `-_.` only)",
            spec.request
        ));
    }
    let query = powerbox::parse_query(&spec.query)
        .map_err(|e| format!("the request `{}.{}`: {e}", spec.requester, spec.request))?;
    let theirs: Vec<&Offer> = offers.iter().filter(|o| o.grain == spec.provider).collect();
    match theirs.iter().find(|o| powerbox::matches(&query, o)) {
        Some(o) => Ok((query, (*o).clone())),
        None => {
            let wanted: Vec<String> = query
                .iter()
                .flat_map(|d| &d.tags)
                .map(|(id, url)| match url {
                    Some(u) => format!("{id:#018x} at {u}"),
                    None => format!("{id:#018x}"),
                })
                .collect();
            let offered: Vec<String> = theirs
                .iter()
                .map(|o| match &o.canonical_url {
                    Some(u) => format!("`{}` at {u}", o.name),
                    None => format!("`{}`", o.name),
                })
                .collect();
            Err(format!(
                "`{}` asks for {}; `{}` offers nothing that matches ({})",
                spec.requester,
                wanted.join(" or "),
                spec.provider,
                if offered.is_empty() {
                    "it exports no API through the Powerbox".to_string()
                } else {
                    format!("it offers {}", offered.join(", "))
                }
            ))
        }
    }
}

/// Makes the link: the picker's grant for the owner's session at the requesting grain, then the
/// request token delivered to that grain's claim endpoint through the gateway.
pub async fn make(
    gateway: &Gateway,
    spec: &LinkSpec,
    query: &[Descriptor],
    api: &Offer,
) -> Result<Linked, String> {
    let (token, _descriptor) = gateway
        .grant(
            &spec.requester,
            &Identity::Owner,
            query,
            &spec.provider,
            &api.name,
        )
        .await?;
    deliver(gateway.port, &spec.requester, &spec.request, &token).await?;
    Ok(Linked {
        requester: spec.requester.clone(),
        request: spec.request.clone(),
        provider: spec.provider.clone(),
        api: api.name.clone(),
        title: api.title.clone(),
    })
}

/// `POST /.soiree/links/<request>/claim` on the requesting grain's UI host, as its owner (no
/// picker cookie), through the gateway: the grain answers `200 {"linked": true}`, or an error
/// status with a text saying why.
async fn deliver(port: u16, grain: &str, request: &str, token: &str) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("delivering the request token to `{grain}`: {e}");
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| fail(&e))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(|e| fail(&e))?;
    tokio::task::spawn_local(async move {
        let _ = conn.await;
    });
    let body = serde_json::json!({ "requestToken": token }).to_string();
    let req = Request::post(format!("/.soiree/links/{request}/claim"))
        .header(hyper::header::HOST, format!("ui-{grain}.localhost:{port}"))
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| fail(&e))?;
    let resp = sender.send_request(req).await.map_err(|e| fail(&e))?;
    let status = resp.status();
    let body = resp.into_body().collect().await.map_err(|e| fail(&e))?.to_bytes();
    let text = String::from_utf8_lossy(&body).trim().to_string();
    let linked = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("linked").and_then(|l| l.as_bool()));
    match (status, linked) {
        (StatusCode::OK, Some(true)) => Ok(()),
        (StatusCode::OK, _) => Err(format!(
            "`{grain}`'s link service answered 200 without {{\"linked\": true}}: {text}"
        )),
        (status, _) => Err(format!("`{grain}` refused the link ({status}): {text}")),
    }
}
