//! The host's `SandstormApi`, bootstrapped by each grain's bridge over fd 3: saved capabilities
//! (`save`/`restore`/`drop`) and wake locks (`stayAwake`), as Sandstorm's supervisor provides them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use capnp::capability::{Client, FromClientHook};
use capnp_rpc::new_client;
use soiree_schema::grain_capnp::{ongoing_notification, sandstorm_api};
use soiree_schema::util_capnp::handle;

/// What one grain's `SandstormApi` keeps: the capabilities it saved and its wake locks.
#[derive(Default)]
pub struct GrainState {
    saved: HashMap<Vec<u8>, Client>,
    wake_locks: Vec<WakeLock>,
    next_lock: u64,
}

/// A held `stayAwake`: its caption (the shell shows it) and the app's notification, kept so the
/// host could cancel it.
pub struct WakeLock {
    pub id: u64,
    pub caption: String,
    _notification: ongoing_notification::Client,
}

impl GrainState {
    /// How many `stayAwake` handles the grain holds.
    pub fn wake_lock_count(&self) -> usize {
        self.wake_locks.len()
    }

    /// The captions of the wake locks held, for the shell.
    pub fn wake_lock_captions(&self) -> Vec<String> {
        self.wake_locks.iter().map(|w| w.caption.clone()).collect()
    }
}

/// A token naming a saved capability: random, URL-safe text (Sandstorm's tokens are text too).
pub fn new_token() -> Result<String, capnp::Error> {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).map_err(|e| capnp::Error::failed(format!("no randomness: {e}")))?;
    Ok(data_encoding::BASE64URL_NOPAD.encode(&bytes))
}

/// The server of one grain's `SandstormApi`.
pub struct Api {
    pub state: Rc<RefCell<GrainState>>,
}

impl sandstorm_api::Server<capnp::any_pointer::Owned> for Api {
    async fn save(
        self: Rc<Self>,
        params: sandstorm_api::SaveParams<capnp::any_pointer::Owned>,
        mut results: sandstorm_api::SaveResults<capnp::any_pointer::Owned>,
    ) -> Result<(), capnp::Error> {
        let cap: Client = params.get()?.get_cap().get_as_capability()?;
        // Often a promise (the bridge saves what a claim is still returning): kept settled,
        // because what is saved is later restored and called.
        let cap = settled(cap).await?;
        let token = new_token()?;
        self.state
            .borrow_mut()
            .saved
            .insert(token.as_bytes().to_vec(), cap);
        results.get().set_token(token.as_bytes());
        Ok(())
    }

    fn restore(
        self: Rc<Self>,
        params: sandstorm_api::RestoreParams<capnp::any_pointer::Owned>,
        mut results: sandstorm_api::RestoreResults<capnp::any_pointer::Owned>,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let r = (|| {
            let token = params.get()?.get_token()?;
            let state = self.state.borrow();
            let cap = state
                .saved
                .get(token)
                .ok_or_else(|| capnp::Error::failed("no capability is saved under this token".into()))?;
            results
                .get()
                .init_cap()
                .set_as_capability(cap.clone().into_client_hook());
            Ok(())
        })();
        std::future::ready(r)
    }

    fn drop(
        self: Rc<Self>,
        params: sandstorm_api::DropParams<capnp::any_pointer::Owned>,
        _: sandstorm_api::DropResults<capnp::any_pointer::Owned>,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        // Idempotent, as Sandstorm documents it.
        let r = params.get().and_then(|p| p.get_token()).map(|token| {
            self.state.borrow_mut().saved.remove(token);
        });
        std::future::ready(r)
    }

    fn stay_awake(
        self: Rc<Self>,
        params: sandstorm_api::StayAwakeParams<capnp::any_pointer::Owned>,
        mut results: sandstorm_api::StayAwakeResults<capnp::any_pointer::Owned>,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let r = (|| {
            let p = params.get()?;
            let caption = p
                .get_display_info()?
                .get_caption()?
                .get_default_text()?
                .to_string()
                .map_err(|e| capnp::Error::failed(e.to_string()))?;
            let notification = p.get_notification()?;
            let mut state = self.state.borrow_mut();
            state.next_lock += 1;
            let id = state.next_lock;
            state.wake_locks.push(WakeLock {
                id,
                caption,
                _notification: notification,
            });
            let lock: handle::Client = new_client(WakeLockHandle {
                id,
                state: Rc::downgrade(&self.state),
            });
            results.get().set_handle(lock);
            Ok(())
        })();
        std::future::ready(r)
    }
}

/// The `Handle` returned by `stayAwake`: the lock ends when the grain drops it.
struct WakeLockHandle {
    id: u64,
    state: std::rc::Weak<RefCell<GrainState>>,
}

impl handle::Server for WakeLockHandle {}

impl Drop for WakeLockHandle {
    fn drop(&mut self) {
        if let Some(state) = self.state.upgrade() {
            if let Ok(mut s) = state.try_borrow_mut() {
                s.wake_locks.retain(|w| w.id != self.id);
            }
        }
    }
}

/// The capability a promise settles to. capnp-rpc copies a call forwarded to a promise that
/// resolved while the call was built without the call's capabilities (and fails), so
/// capabilities passed on to another grain are settled first. `get_resolved` is asked before
/// waiting: capnp-rpc's wait on an already resolved promise never ends.
pub async fn settled(cap: Client) -> Result<Client, capnp::Error> {
    let mut hook = cap.hook;
    loop {
        if let Some(resolved) = hook.get_resolved() {
            hook = resolved;
            continue;
        }
        match hook.when_more_resolved() {
            Some(next) => hook = next.await?,
            None => return Ok(Client::new(hook)),
        }
    }
}
