//! The host's `SessionContext`, passed with every session the gateway opens. Powerbox claims
//! need a request the shell made for this session; `up` has no Powerbox yet, so every claim is
//! refused with the error Sandstorm gives for an unknown token, and API sessions, which cannot
//! use the Powerbox at all, with Sandstorm's message for them.

use std::rc::Rc;

use soiree_schema::grain_capnp::session_context;

pub struct Context {
    /// An API session's context: no shell session behind it.
    pub api: bool,
}

impl session_context::Server for Context {
    fn claim_request(
        self: Rc<Self>,
        _: session_context::ClaimRequestParams,
        _: session_context::ClaimRequestResults,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let message = if self.api {
            "API sessions can't use powerbox"
        } else {
            "no such token: this session made no Powerbox request with it"
        };
        std::future::ready(Err(capnp::Error::failed(message.into())))
    }
}
