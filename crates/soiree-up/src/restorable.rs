//! Capabilities the host can rebuild, as Sandstorm restores them: the host's own `Identity`
//! capabilities, and links to another grain's exported API — held by the host as a forwarder
//! that starts the providing grain when it is stopped, counts each call as a use of it (so
//! inter-grain calls keep it awake), and after the grain restarted asks its bridge to restore
//! the API from its object id (`MainView.restore`). The registry recognises them when a grain
//! saves them, so that `SandstormApi.save` can record what they are.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

use capnp::capability::{Client, DispatchCallResult, FromClientHook, FromServer, Params, Promise, Results};
use capnp::private::capability::ClientHook;
use capnp_rpc::CapabilityServerSet;
use soiree_schema::grain_capnp::{app_persistent, identity, main_view};

use crate::identity::IdentityCap;
use crate::lifecycle::Slot;
use crate::persist::Record;

/// The capabilities of one run of `up` that can be recognised and rebuilt.
pub struct Registry {
    /// The gateway's port (users' pictures are served there).
    pub port: u16,
    slots: RefCell<BTreeMap<String, Weak<Slot>>>,
    links: RefCell<CapabilityServerSet<LinkCap, LinkClient>>,
    identities: RefCell<CapabilityServerSet<IdentityCap, identity::Client>>,
}

impl Registry {
    pub fn new(port: u16) -> Rc<Registry> {
        Rc::new(Registry {
            port,
            slots: RefCell::new(BTreeMap::new()),
            links: RefCell::new(CapabilityServerSet::new()),
            identities: RefCell::new(CapabilityServerSet::new()),
        })
    }

    /// Makes `slot` reachable by links to it.
    pub fn add_slot(&self, slot: &Rc<Slot>) {
        self.slots
            .borrow_mut()
            .insert(slot.spec.name.clone(), Rc::downgrade(slot));
    }

    /// An `Identity` the registry recognises when a grain saves it.
    pub fn identity(&self, cap: IdentityCap) -> identity::Client {
        let mut set = self.identities.borrow_mut();
        // Forgets those no longer held (one is made per session).
        set.gc();
        set.new_client(cap)
    }

    /// A link to grain `grain`'s exported API: `live` the capability its bridge gave in this run
    /// of the grain (if any), `object_id` what restores it (if the bridge made it persistent).
    pub fn link(&self, grain: &str, object_id: Option<Vec<u8>>, live: Option<Client>) -> Client {
        let slot = self.slots.borrow().get(grain).cloned().unwrap_or_default();
        let current = live.and_then(|cap| slot.upgrade().map(|s| (s.starts.get(), cap)));
        let cap = LinkCap {
            grain: grain.to_string(),
            slot,
            object_id,
            current: RefCell::new(current),
        };
        let mut set = self.links.borrow_mut();
        set.gc();
        set.new_client(cap).client
    }

    /// What a capability a grain saves is, if it is one the registry can rebuild.
    pub fn record_of(&self, cap: &Client) -> Option<Record> {
        let as_link = LinkClient::new(cap.hook.add_ref());
        if let Some(link) = self.links.borrow().get_local_server_of_resolved(&as_link) {
            return link.object_id.as_ref().map(|id| Record::Api {
                grain: link.grain.clone(),
                object_id: data_encoding::BASE64.encode(id),
            });
        }
        let as_identity = identity::Client::new(cap.hook.add_ref());
        self.identities
            .borrow()
            .get_local_server_of_resolved(&as_identity)
            .map(|i| i.record())
    }

    /// Builds a saved capability again from its record.
    pub fn rebuild(&self, record: &Record) -> Result<Client, capnp::Error> {
        match record {
            Record::Api { grain, object_id } => {
                let id = data_encoding::BASE64
                    .decode(object_id.as_bytes())
                    .map_err(|e| capnp::Error::failed(format!("a saved object id is not base64: {e}")))?;
                if !self.slots.borrow().contains_key(grain) {
                    return Err(capnp::Error::failed(format!(
                        "this capability is an API of grain `{grain}`, which this party does not run"
                    )));
                }
                Ok(self.link(grain, Some(id), None))
            }
            Record::Identity { key, name, handle } => {
                let cap = IdentityCap::new(key, name, handle, self.port);
                Ok(self.identity(cap).client)
            }
        }
    }
}

/// The bridge's object id of an exported API it handed out, from `AppPersistent.save` (a flat
/// message); `None` when the capability cannot be made persistent.
pub async fn object_id_of(cap: &Client) -> Option<Vec<u8>> {
    let persistent: app_persistent::Client<capnp::any_pointer::Owned> = cap.clone().cast_to();
    let response = persistent.save_request().send().promise.await.ok()?;
    let id = response.get().ok()?.get_object_id().ok()?;
    let mut message = capnp::message::Builder::new_default();
    message
        .init_root::<capnp::any_pointer::Builder>()
        .set_as(id)
        .ok()?;
    Some(capnp::serialize::write_message_to_words(&message))
}

/// A link to an API of grain `grain`, as the host hands it to the grain that claimed it.
pub struct LinkCap {
    grain: String,
    slot: Weak<Slot>,
    object_id: Option<Vec<u8>>,
    /// The bridge's capability and which start of the grain it belongs to.
    current: RefCell<Option<(u32, Client)>>,
}

impl LinkCap {
    /// The providing grain's capability for this call: the grain started if it is stopped, the
    /// API restored by its bridge if the grain started again since the capability was made.
    async fn target(&self) -> Result<Client, capnp::Error> {
        let gone = || capnp::Error::failed(format!("grain `{}` is no longer hosted", self.grain));
        let slot = self.slot.upgrade().ok_or_else(gone)?;
        // Every inbound call is a use of the grain, as Sandstorm's supervisor counts it.
        let view = slot.ui_view().await?;
        let starts = slot.starts.get();
        if let Some((n, cap)) = &*self.current.borrow() {
            if *n == starts {
                return Ok(cap.clone());
            }
        }
        crate::grain::app_listening(&view).await?;
        let Some(object_id) = &self.object_id else {
            return Err(capnp::Error::failed(format!(
                "grain `{}` started again, and its bridge did not make this capability persistent",
                self.grain
            )));
        };
        let words = soiree_spk::message::aligned(object_id);
        let mut bytes = capnp::Word::words_to_bytes(&words);
        let message =
            capnp::serialize::read_message_from_flat_slice(&mut bytes, capnp::message::ReaderOptions::new())?;
        let main: main_view::Client<capnp::any_pointer::Owned> = view.client.cast_to();
        let mut request = main.restore_request();
        request
            .get()
            .init_object_id()
            .set_as(message.get_root::<capnp::any_pointer::Reader>()?)?;
        let response = request.send().promise.await?;
        let cap: Client = response.get()?.get_cap().get_as_capability()?;
        let cap = crate::host::settled(cap).await?;
        *self.current.borrow_mut() = Some((starts, cap.clone()));
        Ok(cap)
    }
}

/// The client type of a [`LinkCap`]: any interface, every call forwarded.
pub struct LinkClient {
    pub client: Client,
}

impl FromClientHook for LinkClient {
    fn new(hook: Box<dyn ClientHook>) -> Self {
        LinkClient {
            client: Client::new(hook),
        }
    }

    fn into_client_hook(self) -> Box<dyn ClientHook> {
        self.client.hook
    }

    fn as_client_hook(&self) -> &dyn ClientHook {
        &*self.client.hook
    }
}

impl FromServer<LinkCap> for LinkClient {
    type Dispatch = LinkDispatch;

    fn from_server(s: Rc<LinkCap>) -> LinkDispatch {
        LinkDispatch(s)
    }
}

#[derive(Clone)]
pub struct LinkDispatch(Rc<LinkCap>);

impl std::ops::Deref for LinkDispatch {
    type Target = LinkCap;

    fn deref(&self) -> &LinkCap {
        &self.0
    }
}

impl capnp::capability::Server for LinkDispatch {
    fn dispatch_call(
        self,
        interface_id: u64,
        method_id: u16,
        params: Params<capnp::any_pointer::Owned>,
        results: Results<capnp::any_pointer::Owned>,
    ) -> DispatchCallResult {
        let link = self.0;
        // Handed on whole (parameters, results, the capabilities in them), as capnp-rpc forwards
        // a call to a promise that resolved.
        let promise = Promise::from_future(async move {
            let _busy = link.slot.upgrade().map(|s| s.busy());
            let grain = link.grain.clone();
            let result = async {
                let target = link.target().await?;
                target
                    .hook
                    .call(interface_id, method_id, params.hook, results.hook)
                    .await
            }
            .await;
            // The calling grain's bridge may say nothing of it (a disconnect closes its proxy's
            // connection without an answer), so the host says it.
            if let Err(e) = &result {
                eprintln!("{grain}: a call through a link failed: {e}");
            }
            result
        });
        DispatchCallResult::new(promise, false)
    }

    fn as_ptr(&self) -> usize {
        Rc::as_ptr(&self.0) as usize
    }
}
