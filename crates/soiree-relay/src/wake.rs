//! The wake lock: while a player is connected, and for a grace period after the last one
//! leaves, the grain holds `SandstormApi.stayAwake` through the bridge's `/tmp/sandstorm-api`, so
//! Sandstorm does not stop a server whose players are quiet.

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use capnp_rpc::{rpc_twoparty_capnp::Side, twoparty, RpcSystem};
use soiree_schema::grain_capnp::{ongoing_notification, sandstorm_api, sandstorm_http_bridge};
use soiree_schema::util_capnp::handle;
use tokio::sync::watch;
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

/// How many players are connected, watched by the wake lock.
#[derive(Clone)]
pub struct Players(Rc<watch::Sender<usize>>);

impl Default for Players {
    fn default() -> Players {
        Players::new()
    }
}

impl Players {
    pub fn new() -> Players {
        Players(Rc::new(watch::channel(0).0))
    }

    pub fn count(&self) -> usize {
        *self.0.borrow()
    }

    /// A seat, given back when dropped.
    pub fn join(&self) -> Seat {
        self.0.send_modify(|n| *n += 1);
        Seat(self.0.clone())
    }

    fn watch(&self) -> watch::Receiver<usize> {
        self.0.subscribe()
    }
}

pub struct Seat(Rc<watch::Sender<usize>>);

impl Drop for Seat {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Sandstorm calls this when a user cancels the notification; the lock stays ours to drop.
struct Notification;
impl ongoing_notification::Server for Notification {}

/// Takes the wake lock when the first player joins and drops it `grace` after the last leaves.
pub async fn hold_while_playing(api: PathBuf, players: Players, party: String, grace: Duration) {
    let mut watch = players.watch();
    let mut conn: Option<Api> = None;
    loop {
        // Wait for a player.
        while *watch.borrow_and_update() == 0 {
            if watch.changed().await.is_err() {
                return;
            }
        }
        if conn.as_ref().is_some_and(|c| c.rpc.is_finished()) {
            conn = None;
        }
        if conn.is_none() {
            match connect(&api).await {
                Ok(c) => conn = Some(c),
                Err(e) => eprintln!("relay: no wake lock: {e}"),
            }
        }
        let taken = match &conn {
            Some(c) => stay_awake(c, &party).await,
            None => Err("no connection to the bridge".into()),
        };
        let lock = match taken {
            Ok(lock) => {
                eprintln!("relay: wake lock taken (players are connected)");
                Some(lock)
            }
            Err(e) => {
                if conn.is_some() {
                    eprintln!("relay: no wake lock: {e}");
                }
                None
            }
        };
        // Hold it until nobody has played for `grace`.
        loop {
            while *watch.borrow_and_update() > 0 {
                if watch.changed().await.is_err() {
                    return;
                }
            }
            match tokio::time::timeout(grace, async {
                while *watch.borrow_and_update() == 0 {
                    if watch.changed().await.is_err() {
                        return;
                    }
                }
            })
            .await
            {
                Ok(()) => continue,
                Err(_) => break,
            }
        }
        if let Some(lock) = lock {
            drop(lock);
            eprintln!(
                "relay: wake lock released ({} s after the last player left)",
                grace.as_secs()
            );
        }
    }
}

/// The bridge's `SandstormApi`, over a connection kept for the relay's life: dropping a handle
/// on a live connection is what tells the host the lock is released.
struct Api {
    api: sandstorm_api::Client<capnp::any_pointer::Owned>,
    rpc: tokio::task::JoinHandle<()>,
}

async fn connect(path: &PathBuf) -> Result<Api, String> {
    let stream = tokio::net::UnixStream::connect(path)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let (r, w) = stream.into_split();
    let net = twoparty::VatNetwork::new(r.compat(), w.compat_write(), Side::Client, Default::default());
    let mut rpc = RpcSystem::new(Box::new(net), None);
    let bridge: sandstorm_http_bridge::Client = rpc.bootstrap(Side::Server);
    let rpc = tokio::task::spawn_local(async move {
        let _ = rpc.await;
    });
    let api = bridge
        .get_sandstorm_api_request()
        .send()
        .promise
        .await
        .and_then(|r| r.get()?.get_api())
        .map_err(|e| format!("getSandstormApi: {e}"))?;
    Ok(Api { api, rpc })
}

async fn stay_awake(api: &Api, party: &str) -> Result<handle::Client, String> {
    let mut req = api.api.stay_awake_request();
    req.get()
        .init_display_info()
        .init_caption()
        .set_default_text(format!("players are connected to the party `{party}`").as_str());
    req.get().set_notification(capnp_rpc::new_client(Notification));
    req.send()
        .promise
        .await
        .and_then(|r| r.get()?.get_handle())
        .map_err(|e| format!("stayAwake: {e}"))
}
