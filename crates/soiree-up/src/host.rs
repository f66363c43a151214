//! The host's `SandstormApi`, bootstrapped by each grain's bridge over fd 3: saved capabilities
//! (`save`/`restore`/`drop`, those the host can rebuild kept on disk so that they outlive `up`)
//! and wake locks (`stayAwake`), as Sandstorm's supervisor provides them.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;

use capnp::capability::{Client, FromClientHook};
use capnp_rpc::new_client;
use soiree_schema::grain_capnp::{ongoing_notification, sandstorm_api};
use soiree_schema::util_capnp::handle;

use crate::persist::{self, Record};
use crate::restorable::Registry;

/// One saved capability: live in this run of `up` (once saved or restored), and what it is when
/// the host can rebuild it.
struct Saved {
    cap: Option<Client>,
    record: Option<Record>,
}

/// What one grain's `SandstormApi` keeps: the capabilities it saved and its wake locks.
#[derive(Default)]
pub struct GrainState {
    saved: HashMap<Vec<u8>, Saved>,
    /// Where the records of `saved` are kept (`None`: in memory only).
    table: Option<PathBuf>,
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
    /// The state of a grain whose saved capabilities are kept in `table`, as an earlier run of
    /// `up` left them.
    pub fn with_table(table: PathBuf) -> Result<GrainState, String> {
        let saved = persist::load(&table)?
            .into_iter()
            .map(|(token, record)| {
                (
                    token.into_bytes(),
                    Saved {
                        cap: None,
                        record: Some(record),
                    },
                )
            })
            .collect();
        Ok(GrainState {
            saved,
            table: Some(table),
            ..GrainState::default()
        })
    }

    /// Writes the records of the saved capabilities, if they are kept.
    fn store(&self) -> Result<(), capnp::Error> {
        let Some(path) = &self.table else { return Ok(()) };
        let records: BTreeMap<String, Record> = self
            .saved
            .iter()
            .filter_map(|(token, s)| {
                let token = String::from_utf8(token.clone()).ok()?;
                Some((token, s.record.clone()?))
            })
            .collect();
        persist::store(path, &records).map_err(|e| {
            capnp::Error::failed(format!(
                "{}: cannot keep the saved capabilities: {e}",
                path.display()
            ))
        })
    }

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

/// The token a grain passes to `restore` or `drop`. The bridge restores a saved identity with the
/// token it read back from a symlink followed by the rest of its 512-byte buffer
/// (`loadIdentityFromDisk` in sandstorm-http-bridge.c++ decodes the whole array): the host's
/// tokens hold no NUL, so one ends the token.
fn token_of(token: &[u8]) -> &[u8] {
    token.split(|b| *b == 0).next().unwrap_or(token)
}

/// The server of one grain's `SandstormApi`.
pub struct Api {
    pub state: Rc<RefCell<GrainState>>,
    pub registry: Rc<Registry>,
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
        let record = self.registry.record_of(&cap);
        let token = new_token()?;
        let mut state = self.state.borrow_mut();
        state.saved.insert(
            token.as_bytes().to_vec(),
            Saved {
                cap: Some(cap),
                record: record.clone(),
            },
        );
        if record.is_some() {
            if let Err(e) = state.store() {
                // Not kept, so not handed out: the grain sees the save fail.
                state.saved.remove(token.as_bytes());
                return Err(e);
            }
        }
        results.get().set_token(token.as_bytes());
        Ok(())
    }

    fn restore(
        self: Rc<Self>,
        params: sandstorm_api::RestoreParams<capnp::any_pointer::Owned>,
        mut results: sandstorm_api::RestoreResults<capnp::any_pointer::Owned>,
    ) -> impl std::future::Future<Output = Result<(), capnp::Error>> + 'static {
        let r = (|| {
            let token = token_of(params.get()?.get_token()?);
            let mut state = self.state.borrow_mut();
            let saved = state
                .saved
                .get_mut(token)
                .ok_or_else(|| capnp::Error::failed("no capability is saved under this token".into()))?;
            let cap = match (&saved.cap, &saved.record) {
                (Some(cap), _) => cap.clone(),
                // Saved by an earlier run of `up`: built again, once.
                (None, Some(record)) => {
                    let cap = self.registry.rebuild(record)?;
                    saved.cap = Some(cap.clone());
                    cap
                }
                (None, None) => {
                    return Err(capnp::Error::failed(
                        "this capability was saved by an earlier run of `up` and cannot be rebuilt".into(),
                    ))
                }
            };
            results.get().init_cap().set_as_capability(cap.into_client_hook());
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
        let r = params
            .get()
            .and_then(|p| p.get_token())
            .map(token_of)
            .and_then(|token| {
                let mut state = self.state.borrow_mut();
                match state.saved.remove(token) {
                    Some(Saved { record: Some(_), .. }) => state.store(),
                    _ => Ok(()),
                }
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

#[cfg(test)]
mod tests {
    use super::token_of;

    #[test]
    fn a_token_ends_at_the_first_nul() {
        assert_eq!(token_of(b"abc\0garbage\0"), b"abc");
        assert_eq!(token_of(b"abc"), b"abc");
    }
}
