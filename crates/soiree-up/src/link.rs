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
/// base64 as its page would pass them to `powerboxRequest`), granted with grain `provider`'s
/// API `api` (by its name in the bridge config, as in party.toml's `[[packages.NAME.offers]]`),
/// or with its only matching API when `None`.
#[derive(Debug, Clone)]
pub struct LinkSpec {
    pub requester: String,
    pub request: String,
    pub query: Vec<String>,
    pub provider: String,
    pub api: Option<String>,
}

impl LinkSpec {
    /// `REQUESTER.REQUEST=PROVIDER[/API]`, as `--link` takes it.
    pub fn name(&self) -> String {
        let api = self.api.as_ref().map(|a| format!("/{a}")).unwrap_or_default();
        format!("{}.{}={}{api}", self.requester, self.request, self.provider)
    }
}

/// Why a link cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The provider exports several APIs that match and the link names none: the names of
    /// those that match.
    Ambiguous(Vec<String>),
    Other(String),
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

/// The request's descriptors and the provider's API it will be granted with: the one named, or
/// the only one of the provider's offers that the picker would list for it (a person would
/// choose among several; `--link` must say which). Checked before any grain starts.
pub fn plan(
    spec: &LinkSpec,
    grains: &[&str],
    offers: &[Offer],
) -> Result<(Vec<Descriptor>, Offer), PlanError> {
    let (query, theirs) = check(spec, grains, offers).map_err(PlanError::Other)?;
    let matching: Vec<&Offer> = theirs
        .iter()
        .copied()
        .filter(|o| powerbox::matches(&query, o))
        .collect();
    if let Some(api) = &spec.api {
        let Some(named) = theirs.iter().find(|o| &o.name == api) else {
            let names: Vec<String> = theirs.iter().map(|o| format!("`{}`", o.name)).collect();
            return Err(PlanError::Other(format!(
                "`{}` exports no API `{api}` ({})",
                spec.provider,
                if names.is_empty() {
                    "it exports no API through the Powerbox".to_string()
                } else {
                    format!("it exports {}", names.join(", "))
                }
            )));
        };
        if !matching.iter().any(|o| o.name == *api) {
            return Err(PlanError::Other(format!(
                "`{}` asks for {}; `{}`'s API `{api}` does not match ({})",
                spec.requester,
                wanted(&query),
                spec.provider,
                offered(&[named])
            )));
        }
        return Ok((query, (*named).clone()));
    }
    match matching.as_slice() {
        [one] => Ok((query, (*one).clone())),
        [] => Err(PlanError::Other(format!(
            "`{}` asks for {}; `{}` offers nothing that matches ({})",
            spec.requester,
            wanted(&query),
            spec.provider,
            if theirs.is_empty() {
                "it exports no API through the Powerbox".to_string()
            } else {
                format!("it offers {}", offered(&theirs))
            }
        ))),
        several => Err(PlanError::Ambiguous(
            several.iter().map(|o| o.name.clone()).collect(),
        )),
    }
}

/// What the request asks for, as the errors say it.
fn wanted(query: &[Descriptor]) -> String {
    let w: Vec<String> = query
        .iter()
        .flat_map(|d| &d.tags)
        .map(|(id, url)| match url {
            Some(u) => format!("{id:#018x} at {u}"),
            None => format!("{id:#018x}"),
        })
        .collect();
    w.join(" or ")
}

/// The offers, as the errors say them.
fn offered(offers: &[&Offer]) -> String {
    let o: Vec<String> = offers
        .iter()
        .map(|o| match &o.canonical_url {
            Some(u) => format!("`{}` at {u}", o.name),
            None => format!("`{}`", o.name),
        })
        .collect();
    o.join(", ")
}

/// The grains and the request name, then the request's descriptors and the provider's offers.
fn check<'a>(
    spec: &LinkSpec,
    grains: &[&str],
    offers: &'a [Offer],
) -> Result<(Vec<Descriptor>, Vec<&'a Offer>), String> {
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
    Ok((query, theirs))
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

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://v-sekai.org/uro/api/v1";

    fn offer(name: &str, url: Option<&str>) -> Offer {
        Offer {
            grain: "uro".into(),
            name: name.into(),
            title: name.into(),
            canonical_url: url.map(str::to_string),
        }
    }

    fn spec(api: Option<&str>) -> LinkSpec {
        let m =
            soiree_plan::powerbox::descriptor_message(soiree_party::Interface::ApiSession, Some(URL), None);
        LinkSpec {
            requester: "server".into(),
            request: "uro".into(),
            query: vec![soiree_plan::powerbox::encode(&m)],
            provider: "uro".into(),
            api: api.map(str::to_string),
        }
    }

    fn chosen(api: Option<&str>, offers: &[Offer]) -> Result<String, PlanError> {
        plan(&spec(api), &["server", "uro"], offers).map(|(_, o)| o.name)
    }

    #[test]
    fn several_matching_apis_need_a_choice() {
        let offers = [
            offer("uro-api", Some(URL)),
            offer("admin", None),
            offer("other", Some("https://elsewhere.example/")),
        ];
        // `admin` (no canonical URL) matches too: the picker would list both.
        assert_eq!(
            chosen(None, &offers),
            Err(PlanError::Ambiguous(vec!["uro-api".into(), "admin".into()]))
        );
        assert_eq!(chosen(Some("admin"), &offers), Ok("admin".into()));
        assert_eq!(chosen(Some("uro-api"), &offers), Ok("uro-api".into()));
        assert_eq!(
            chosen(Some("other"), &offers),
            Err(PlanError::Other(format!(
                "`server` asks for 0xc879e379c625cdc7 at {URL}; `uro`'s API `other` does not match (`other` at https://elsewhere.example/)"
            )))
        );
        assert_eq!(
            chosen(Some("nope"), &offers),
            Err(PlanError::Other(
                "`uro` exports no API `nope` (it exports `uro-api`, `admin`, `other`)".into()
            ))
        );
        // One match: no choice needed.
        assert_eq!(chosen(None, &offers[..1]), Ok("uro-api".into()));
        assert_eq!(spec(Some("admin")).name(), "server.uro=uro/admin");
    }
}
