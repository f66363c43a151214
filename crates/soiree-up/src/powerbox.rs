//! The Powerbox as `up` plays it: the APIs each grain's bridge config exports, a request's
//! descriptors matched against them (tag ids; an `ApiSession` tag's canonical URL exactly, null
//! matching anything), the grant — a request session at the chosen grain, whose bridge calls
//! `fulfillRequest` — and the capability kept under a request token for the requesting session
//! until that session's bridge claims it, once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

use capnp::capability::Client;
use soiree_schema::grain_capnp::session_context;
use soiree_schema::interface_ids::API_SESSION;
use soiree_schema::manifest_capnp::bridge_config;
use soiree_schema::powerbox_capnp::{api_session_tag, powerbox_descriptor};

use crate::identity::Identity;

/// An API a grain exports through the Powerbox (`bridgeConfig.powerboxApis`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub grain: String,
    pub name: String,
    pub title: String,
    pub canonical_url: Option<String>,
}

fn txt(t: capnp::Result<capnp::text::Reader>) -> String {
    t.ok().and_then(|t| t.to_str().ok()).unwrap_or("").to_string()
}

/// The offers of the package staged at `root`, from its `/sandstorm-http-bridge-config`.
pub fn offers_of(grain: &str, root: &Path) -> Result<Vec<Offer>, String> {
    let path = root.join("sandstorm-http-bridge-config");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let words = soiree_spk::message::aligned(&bytes);
    let mut slice = capnp::Word::words_to_bytes(&words);
    let msg =
        capnp::serialize::read_message_from_flat_slice(&mut slice, soiree_spk::message::small_options())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    let config = msg
        .get_root::<bridge_config::Reader>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut offers = Vec::new();
    for api in config.get_powerbox_apis().map_err(|e| e.to_string())? {
        let url = api
            .get_tag()
            .ok()
            .filter(|t| t.has_canonical_url())
            .map(|t| txt(t.get_canonical_url()));
        offers.push(Offer {
            grain: grain.to_string(),
            name: txt(api.get_name()),
            title: api
                .get_display_info()
                .and_then(|d| d.get_title())
                .map(|t| txt(t.get_default_text()))
                .unwrap_or_default(),
            canonical_url: url,
        });
    }
    Ok(offers)
}

/// One descriptor of a request: its packed bytes (passed on to the providing grain) and its
/// tags as matching needs them.
#[derive(Debug, Clone)]
pub struct Descriptor {
    pub packed: Vec<u8>,
    pub tags: Vec<(u64, Option<String>)>,
}

/// Reads a `powerboxRequest` query: base64 (standard or URL-safe) packed descriptors.
pub fn parse_query(query: &[String]) -> Result<Vec<Descriptor>, String> {
    if query.is_empty() {
        return Err("the request has no descriptor (`query` is empty)".into());
    }
    let mut out = Vec::new();
    for (i, text) in query.iter().enumerate() {
        let bad = |why: String| format!("descriptor {i} ({text:?}) is malformed: {why}");
        let packed = soiree_spk::ids::decode_base64(text).map_err(|e| bad(format!("not base64: {e}")))?;
        let mut opts = capnp::message::ReaderOptions::new();
        opts.traversal_limit_in_words(Some(1 << 16));
        let msg = capnp::serialize_packed::read_message(&mut &packed[..], opts)
            .map_err(|e| bad(format!("not a packed message: {e}")))?;
        let root = msg
            .get_root::<powerbox_descriptor::Reader>()
            .map_err(|e| bad(e.to_string()))?;
        let mut tags = Vec::new();
        for tag in root.get_tags().map_err(|e| bad(e.to_string()))? {
            let url = if tag.get_id() == API_SESSION && !tag.get_value().is_null() {
                let v: api_session_tag::Reader = tag.get_value().get_as().map_err(|e| bad(e.to_string()))?;
                v.has_canonical_url().then(|| txt(v.get_canonical_url()))
            } else {
                None
            };
            tags.push((tag.get_id(), url));
        }
        if tags.is_empty() {
            return Err(bad("it has no tags".into()));
        }
        out.push(Descriptor { packed, tags });
    }
    Ok(out)
}

/// Does one of the query's descriptors match the offer? Every tag of a descriptor must be matched
/// by the offer's single tag `{ApiSession, tag}`.
pub fn matches(query: &[Descriptor], offer: &Offer) -> bool {
    query.iter().any(|d| {
        d.tags.iter().all(|(id, url)| {
            *id == API_SESSION
                && match (url, &offer.canonical_url) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                }
        })
    })
}

/// Which session a grant belongs to: the requesting grain and who used it.
pub type SessionKey = (String, Identity);

/// A granted capability waiting for its session to claim it.
pub struct Grant {
    pub session: SessionKey,
    pub cap: Client,
    pub claimed: bool,
}

/// Request tokens → grants, shared by the gateway and every session's context.
pub type Grants = Rc<RefCell<HashMap<String, Grant>>>;

/// What the providing grain's bridge hands over by `fulfillRequest`.
pub struct Fulfilled {
    pub cap: Client,
    /// Packed, as the requester's page receives it (base64).
    pub descriptor: Vec<u8>,
}

/// The context of a request session: it takes what the bridge fulfils the request with.
pub struct RequestContext {
    pub slot: Rc<RefCell<Option<Fulfilled>>>,
}

impl session_context::Server for RequestContext {
    fn fulfill_request(
        self: Rc<Self>,
        params: session_context::FulfillRequestParams,
        _: session_context::FulfillRequestResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let r = (|| {
            let p = params.get()?;
            let cap: Client = p.get_cap().get_as_capability()?;
            let mut b = capnp::message::Builder::new_default();
            b.set_root(p.get_descriptor()?)?;
            let mut descriptor = Vec::new();
            capnp::serialize_packed::write_message(&mut descriptor, &b)?;
            *self.slot.borrow_mut() = Some(Fulfilled { cap, descriptor });
            Ok(())
        })();
        std::future::ready(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(url: Option<&str>) -> Vec<Descriptor> {
        let m = soiree_plan::powerbox::descriptor_message(soiree_party::Interface::ApiSession, url, None);
        parse_query(&[soiree_plan::powerbox::encode(&m)]).unwrap()
    }

    fn offer(url: Option<&str>) -> Offer {
        Offer {
            grain: "uro".into(),
            name: "uro".into(),
            title: String::new(),
            canonical_url: url.map(str::to_string),
        }
    }

    #[test]
    fn canonical_urls_match_exactly_and_null_matches_anything() {
        let q = query(Some("https://uro.v-sekai.org/api/v1/"));
        assert!(matches(&q, &offer(Some("https://uro.v-sekai.org/api/v1/"))));
        assert!(!matches(&q, &offer(Some("https://uro.v-sekai.org/api/v1"))));
        assert!(matches(&q, &offer(None)));
        assert!(matches(&query(None), &offer(Some("https://x/"))));
        let ip =
            soiree_plan::powerbox::descriptor_message(soiree_party::Interface::IpNetwork, None, Some(true));
        let ip = parse_query(&[soiree_plan::powerbox::encode(&ip)]).unwrap();
        assert!(
            !matches(&ip, &offer(None)),
            "an IpNetwork request is no ApiSession"
        );
    }

    #[test]
    fn malformed_queries_are_refused() {
        assert!(parse_query(&[]).unwrap_err().contains("no descriptor"));
        assert!(parse_query(&["!!".into()]).unwrap_err().contains("not base64"));
        assert!(parse_query(&["AAAA".into()]).unwrap_err().contains("malformed"));
    }
}
