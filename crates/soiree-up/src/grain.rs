//! One grain: the package's own command (Sandstorm's bridge first) started in `soiree-run`'s
//! sandbox with fd 3 connected here, `SandstormApi` served as this end's bootstrap, the bridge's
//! `UiView` bootstrapped from the other, and the view info it declares.

use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use capnp_rpc::{new_client, rpc_twoparty_capnp::Side, twoparty, RpcSystem};
use soiree_schema::grain_capnp::{sandstorm_api, ui_view};
use tokio_util::compat::{TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

use crate::host::{Api, GrainState};
use crate::restorable::Registry;
use crate::Error;

/// What `up` needs to start a grain.
#[derive(Debug, Clone)]
pub struct GrainSpec {
    /// The grain's name in URLs (`ui-<name>.localhost`), the package's name.
    pub name: String,
    /// The package's staged tree or unpacked `.spk`.
    pub root: PathBuf,
    /// The grain's persistent `/var` on the host.
    pub var: PathBuf,
    /// Where the grain's output goes (`None`: this process's stderr).
    pub log: Option<PathBuf>,
}

/// A role a user can be given, from the bridge's view info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub title: String,
    pub permissions: Vec<bool>,
}

/// What the grain's `getViewInfo` declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewInfo {
    pub permissions: Vec<String>,
    pub roles: Vec<Role>,
}

/// A started grain. Dropping it kills the sandbox.
pub struct Grain {
    pub spec: GrainSpec,
    pub ui_view: ui_view::Client,
    pub view_info: ViewInfo,
    running: soiree_run::Running,
    rpc: tokio::task::JoinHandle<()>,
    /// `grain.json` for `soiree-pack enter`, removed with the grain.
    _record: Option<soiree_run::enter::RecordFile>,
}

/// The real bridge is a program; the offline stand-in of `fixtures/inputs/sandstorm-bundle` is a
/// shell script that only says it is one.
pub fn check_bridge(root: &Path) -> Result<(), Error> {
    let path = root.join(soiree_run::grain::BRIDGE.trim_start_matches('/'));
    let mut head = [0u8; 4];
    let ok = std::fs::File::open(&path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok();
    if ok && head == *b"\x7fELF" {
        Ok(())
    } else {
        Err(Error::StandInBridge { path })
    }
}

impl Grain {
    /// Starts the grain and asks its bridge for its view info. Runs on a `LocalSet`.
    pub async fn start(
        spec: GrainSpec,
        bwrap: &Path,
        state: Rc<RefCell<GrainState>>,
        registry: Rc<Registry>,
    ) -> Result<Grain, Error> {
        check_bridge(&spec.root)?;
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(Error::io("socketpair"))?;
        let mut opts = soiree_run::Options::new(&spec.root, &spec.var);
        opts.bwrap = bwrap.to_path_buf();
        opts.log = spec.log.clone();
        opts.purpose = format!("soiree-pack up ({})", spec.name);
        let running = soiree_run::start_bridged(&opts, OwnedFd::from(theirs))?;
        // How `soiree-pack enter` finds this grain (beside its /var); gone with the grain.
        let record = spec
            .var
            .parent()
            .map(|dir| soiree_run::enter::RecordFile::write(dir, running.supervisor_pid(), &spec.root))
            .transpose()
            .map_err(Error::io("grain.json"))?;

        ours.set_nonblocking(true).map_err(Error::io("socket"))?;
        let stream = tokio::net::UnixStream::from_std(ours).map_err(Error::io("socket"))?;
        let (r, w) = stream.into_split();
        let network = twoparty::VatNetwork::new(
            r.compat(),
            w.compat_write(),
            Side::Server,
            capnp::message::ReaderOptions::new(),
        );
        let api: sandstorm_api::Client<capnp::any_pointer::Owned> = new_client(Api {
            state: state.clone(),
            registry,
        });
        let mut rpc = RpcSystem::new(Box::new(network), Some(api.client));
        let ui_view: ui_view::Client = rpc.bootstrap(Side::Client);
        let name = spec.name.clone();
        let rpc = tokio::task::spawn_local(async move {
            if let Err(e) = rpc.await {
                eprintln!("soiree-pack up: {name}: the bridge's connection ended: {e}");
            }
        });
        let mut grain = Grain {
            spec,
            ui_view,
            view_info: ViewInfo::default(),
            running,
            rpc,
            _record: record,
        };
        grain.view_info = grain.read_view_info().await?;
        Ok(grain)
    }

    async fn read_view_info(&self) -> Result<ViewInfo, Error> {
        let rpc = |e: capnp::Error| Error::Rpc {
            grain: self.spec.name.clone(),
            what: "getViewInfo".into(),
            message: e.to_string(),
        };
        let response = self
            .ui_view
            .get_view_info_request()
            .send()
            .promise
            .await
            .map_err(rpc)?;
        let v = response.get().map_err(rpc)?;
        let text = |t: capnp::Result<capnp::text::Reader>| -> String {
            t.ok().and_then(|t| t.to_str().ok()).unwrap_or("").to_string()
        };
        let mut info = ViewInfo::default();
        for p in v.get_permissions().map_err(rpc)? {
            info.permissions.push(text(p.get_name()));
        }
        for r in v.get_roles().map_err(rpc)? {
            let title = r
                .get_title()
                .map(|t| text(t.get_default_text()))
                .unwrap_or_default();
            let permissions = r
                .get_permissions()
                .map(|l| l.iter().collect())
                .unwrap_or_default();
            info.roles.push(Role { title, permissions });
        }
        Ok(info)
    }

    /// The grain's processes have ended (crashed, or the bridge saw its app exit).
    pub fn has_ended(&mut self) -> bool {
        !matches!(self.running.try_wait(), Ok(None))
    }

    /// Stops the grain: the sandbox is killed, as Sandstorm kills grains.
    pub fn stop(mut self) {
        self.rpc.abort();
        self.running.request_stop();
        let _ = self.running.wait();
    }
}

/// A SessionContext that grants nothing: what the host passes for a session it opens only to
/// learn that the app listens.
struct NoContext;

impl soiree_schema::grain_capnp::session_context::Server for NoContext {}

/// Waits until the grain's app accepts connections. The bridge holds back every new session
/// until then, but not a capability it restores (`MainView.restore` of an `httpApi`), so a call
/// through a link that starts its target would otherwise meet "connect(): Connection refused"
/// while the app is still starting. An API session asked for and dropped unused is the bridge's
/// own signal; nothing reaches the app.
pub async fn app_listening(view: &ui_view::Client) -> Result<(), capnp::Error> {
    let mut r = view.new_session_request();
    {
        let mut p = r.get();
        p.reborrow().init_user_info().init_permissions(0);
        p.set_context(new_client::<soiree_schema::grain_capnp::session_context::Client, _>(NoContext));
        p.set_session_type(soiree_schema::interface_ids::API_SESSION);
        p.set_tab_id(&[0u8; 16]);
        let _: soiree_schema::web_session_capnp::api_session::params::Builder =
            p.init_session_params().init_as();
    }
    let session = r.send().promise.await?.get()?.get_session()?;
    crate::host::settled(session.client).await.map(drop)
}
