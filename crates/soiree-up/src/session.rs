//! The host's `SessionContext`, passed with every session the gateway opens: `claimRequest`
//! hands over what the Powerbox granted to this session (once, and only if the user holds the
//! permissions the requester asks for); API sessions cannot use the Powerbox, as on Sandstorm.

use std::rc::Rc;

use capnp::capability::FromClientHook;
use soiree_schema::grain_capnp::session_context;

use crate::powerbox::{Grants, SessionKey};

pub struct Context {
    /// The UI session this context belongs to; `None` for an API session (no shell behind it).
    pub session: Option<SessionKey>,
    /// The session user's permissions, indexed like the grain's view info.
    pub permissions: Vec<bool>,
    pub grants: Grants,
}

impl session_context::Server for Context {
    fn claim_request(
        self: Rc<Self>,
        params: session_context::ClaimRequestParams,
        mut results: session_context::ClaimRequestResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let r = (|| {
            let Some(session) = &self.session else {
                return Err(capnp::Error::failed("API sessions can't use powerbox".into()));
            };
            let p = params.get()?;
            let token = p
                .get_request_token()?
                .to_string()
                .map_err(|e| capnp::Error::failed(e.to_string()))?;
            for (i, needed) in p.get_required_permissions()?.iter().enumerate() {
                if needed && !self.permissions.get(i).copied().unwrap_or(false) {
                    return Err(capnp::Error::failed(format!(
                        "the user does not hold permission {i} that the claim requires"
                    )));
                }
            }
            let mut grants = self.grants.borrow_mut();
            let grant = grants
                .get_mut(&token)
                .filter(|g| &g.session == session)
                .ok_or_else(|| {
                    capnp::Error::failed(format!(
                        "no such token: no Powerbox request of this session was granted as {token:?}"
                    ))
                })?;
            if grant.claimed {
                return Err(capnp::Error::failed(format!(
                    "the request token {token:?} was already claimed"
                )));
            }
            grant.claimed = true;
            results
                .get()
                .init_cap()
                .set_as_capability(grant.cap.clone().into_client_hook());
            Ok(())
        })();
        std::future::ready(r)
    }
}
