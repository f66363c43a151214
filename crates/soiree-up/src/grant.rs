//! The Powerbox grant as the shell's picker makes it: a request session at the providing grain,
//! the API's name posted to its bridge's own picker, and the capability its bridge fulfils the
//! request with kept — as a link the host can restore — under a request token for the requesting
//! session.

use std::cell::RefCell;
use std::rc::Rc;

use capnp::capability::FromClientHook;
use soiree_schema::grain_capnp::session_context;
use soiree_schema::interface_ids;
use soiree_schema::web_session_capnp::web_session;

use crate::gateway::{tab_id, Gateway};
use crate::identity::Identity;
use crate::powerbox::{self, Descriptor, Grant, RequestContext};

impl Gateway {
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
            Identity::Owner.fill(&view, &self.registry, p.reborrow().init_user_info());
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
        // What the requesting grain gets is the host's link to it, as on Sandstorm, where the
        // supervisor stands between grains: it restarts the provider when stopped, counts calls
        // as its use, and — given the bridge's object id — can be restored after restarts.
        let object_id = crate::restorable::object_id_of(&cap).await;
        let cap = self.registry.link(provider, object_id, Some(cap));
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
}
