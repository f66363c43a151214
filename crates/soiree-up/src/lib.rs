//! Host a party's grains as Sandstorm would: each package's own HTTP bridge in bubblewrap, soiree-pack as its supervisor, gateway and shell.
//!
//! [`Party::start`] starts one grain per package with the manifest's command
//! (`/sandstorm-http-bridge PORT -- …`) in `soiree-run`'s sandbox, fd 3 connected to this
//! process, which serves `SandstormApi` there and takes the bridge's `UiView`. The gateway then
//! turns browser HTTP into `WebSession` calls on `127.0.0.1:PORT`. Everything runs on one
//! thread: Cap'n Proto's RPC system is not `Send`, so callers drive it inside a
//! `tokio::task::LocalSet`.

mod api_host;
mod api_tokens;
mod client_address;
mod gateway;
mod grain;
mod grant;
mod host;
mod identity;
mod lifecycle;
mod link;
mod persist;
mod powerbox;
mod request;
mod response;
mod restorable;
mod session;
mod shell;
mod shell_routes;
mod streams;
mod ui_host;
mod websocket;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;

pub use api_host::api_host_id;
pub use grain::{check_bridge, GrainSpec, Role, ViewInfo};
pub use identity::Identity;
pub use link::{LinkSpec, Linked};
pub use powerbox::{matches, offers_of, parse_query, Descriptor, Offer};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("{}: this is the offline stand-in for Sandstorm's HTTP bridge, which `up` cannot run", path.display())]
    #[diagnostic(
        code(soiree::up::stand_in_bridge),
        help("give the party the real bridge: `--source sandstorm-bundle=DIR` with a folder holding bin/sandstorm-http-bridge (a Sandstorm release bundle), or `soiree-pack lock --profile release` to download Sandstorm's bundle")
    )]
    StandInBridge { path: PathBuf },

    #[error(transparent)]
    #[diagnostic(transparent)]
    Run(#[from] soiree_run::Error),

    #[error("{grain}: the bridge failed {what}: {message}")]
    #[diagnostic(code(soiree::up::rpc), help("the grain's log (above) says why"))]
    Rpc {
        grain: String,
        what: String,
        message: String,
    },

    #[error("--link {link}: {message}")]
    #[diagnostic(
        code(soiree::up::link),
        help("a link grants the requesting package's Powerbox request (`[[packages.NAME.requests]]`) with an API the other package exports (`powerboxApis` of its bridge config), as the shell's picker would")
    )]
    Link { link: String, message: String },

    #[error("--link {link}: `{provider}` exports several APIs that match: {}", candidates.join(", "))]
    #[diagnostic(code(soiree::up::link_ambiguous))]
    LinkAmbiguous {
        link: String,
        provider: String,
        candidates: Vec<String>,
        #[help]
        help: String,
    },

    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    #[diagnostic(code(soiree::up::port), help("choose another port with --port N"))]
    Port { port: u16, source: std::io::Error },

    #[error("{what}: {source}")]
    #[diagnostic(code(soiree::up::io))]
    Io { what: String, source: std::io::Error },
}

impl Error {
    fn io(what: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            what: what.to_string(),
            source,
        }
    }

    /// The machine failed (exit code 3), rather than the party (1).
    pub fn is_machine(&self) -> bool {
        match self {
            Error::Run(e) => e.is_machine(),
            Error::Port { .. } | Error::Io { .. } => true,
            Error::StandInBridge { .. }
            | Error::Rpc { .. }
            | Error::Link { .. }
            | Error::LinkAmbiguous { .. } => false,
        }
    }
}

/// How to bring the party up.
#[derive(Debug, Clone)]
pub struct Options {
    pub grains: Vec<GrainSpec>,
    /// The gateway's port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    pub bwrap: PathBuf,
    /// How often the idle check runs (Sandstorm: 90 s); `None` never stops an idle grain.
    pub idle: Option<std::time::Duration>,
    /// Links to make once the grains are up, as the shell's picker makes them.
    pub links: Vec<LinkSpec>,
}

/// A grain as the caller may print it.
#[derive(Debug, Clone)]
pub struct GrainUrls {
    pub name: String,
    /// The shell page framing the grain.
    pub shell: String,
    /// An API token acting as the grain's owner, and its URL (dedicated API host).
    pub api_token: String,
    pub api_url: String,
}

/// The running party: its grains and the gateway. Must live on a `LocalSet`.
pub struct Party {
    gateway: Rc<gateway::Gateway>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    idle: Option<tokio::task::JoinHandle<()>>,
    urls: Vec<GrainUrls>,
    links: Vec<Linked>,
}

impl Party {
    /// Starts every grain (stopping those already started if one fails), then the gateway, then
    /// makes the links (stopping everything if one cannot be made).
    pub async fn start(opts: &Options) -> Result<Party, Error> {
        for spec in &opts.grains {
            check_bridge(&spec.root)?;
        }
        let mut offers = Vec::new();
        for spec in &opts.grains {
            offers.extend(
                powerbox::offers_of(&spec.name, &spec.root).map_err(|message| Error::Rpc {
                    grain: spec.name.clone(),
                    what: "reading its bridge config".into(),
                    message,
                })?,
            );
        }
        // Links that cannot be made are refused before any grain starts.
        let names: Vec<&str> = opts.grains.iter().map(|g| g.name.as_str()).collect();
        let planned = opts
            .links
            .iter()
            .map(|l| {
                link::plan(l, &names, &offers).map_err(|e| match e {
                    link::PlanError::Other(message) => Error::Link {
                        link: l.name(),
                        message,
                    },
                    link::PlanError::Ambiguous(candidates) => Error::LinkAmbiguous {
                        link: l.name(),
                        provider: l.provider.clone(),
                        help: format!(
                            "say which, by the API's name in its bridge config (`[[packages.{p}.offers]]` in party.toml): {}",
                            candidates
                                .iter()
                                .map(|c| format!("`--link {l}/{c}`", l = l.name()))
                                .collect::<Vec<_>>()
                                .join(" or "),
                            p = l.provider,
                        ),
                        candidates,
                    },
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .map_err(|source| Error::Port {
                port: opts.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(Error::io("listener"))?;
        let registry = restorable::Registry::new(addr.port());
        let mut grains: BTreeMap<String, Rc<lifecycle::Slot>> = BTreeMap::new();
        for spec in &opts.grains {
            match lifecycle::Slot::start(spec.clone(), &opts.bwrap, registry.clone()).await {
                Ok(g) => {
                    let g = Rc::new(g);
                    registry.add_slot(&g);
                    grains.insert(spec.name.clone(), g);
                }
                Err(e) => {
                    for g in grains.values() {
                        g.stop();
                    }
                    return Err(e);
                }
            }
        }
        let gateway = Rc::new(gateway::Gateway::new(registry, grains, offers));
        let mut urls = Vec::new();
        for spec in &opts.grains {
            let token = gateway.mint_token(&spec.name).map_err(|e| Error::Rpc {
                grain: spec.name.clone(),
                what: "an API token".into(),
                message: e.to_string(),
            })?;
            urls.push(GrainUrls {
                name: spec.name.clone(),
                shell: format!("http://127.0.0.1:{}/grain/{}/", addr.port(), spec.name),
                api_url: format!("{}.sandstorm-token/{token}/", gateway.api_url(&token)),
                api_token: token,
            });
        }
        let server = tokio::task::spawn_local(gateway::serve(gateway.clone(), listener));
        let idle = opts.idle.filter(|d| !d.is_zero()).map(|every| {
            let slots: Vec<_> = gateway.grains.values().cloned().collect();
            let gw = gateway.clone();
            tokio::task::spawn_local(lifecycle::idle_loop(slots, every, move |g| gw.forget(g)))
        });
        let mut party = Party {
            gateway,
            addr,
            server,
            idle,
            urls,
            links: Vec::new(),
        };
        for (spec, (query, api)) in opts.links.iter().zip(&planned) {
            match link::make(&party.gateway, spec, query, api).await {
                Ok(made) => party.links.push(made),
                Err(message) => {
                    party.stop();
                    return Err(Error::Link {
                        link: spec.name(),
                        message,
                    });
                }
            }
        }
        Ok(party)
    }

    /// The links made at start.
    pub fn links(&self) -> &[Linked] {
        &self.links
    }

    /// The gateway's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn urls(&self) -> &[GrainUrls] {
        &self.urls
    }

    /// The view info a grain's bridge declared.
    pub fn view_info(&self, grain: &str) -> Option<ViewInfo> {
        self.gateway.grains.get(grain).map(|g| g.view_info.clone())
    }

    /// How many `stayAwake` handles a grain holds.
    pub fn wake_locks(&self, grain: &str) -> Option<usize> {
        self.gateway
            .grains
            .get(grain)
            .map(|g| g.state.borrow().wake_lock_count())
    }

    /// A grain whose processes have ended, if any.
    pub fn ended_grain(&self) -> Option<String> {
        self.gateway
            .grains
            .iter()
            .find_map(|(name, g)| g.has_ended().then(|| name.clone()))
    }

    /// Grants grain `requester`'s Powerbox request `query` (made as `who`) with grain
    /// `provider`'s API `api`, as the shell's picker does: the request token and the descriptor.
    pub async fn grant(
        &self,
        requester: &str,
        who: &Identity,
        query: &[Descriptor],
        provider: &str,
        api: &str,
    ) -> Result<(String, String), String> {
        self.gateway.grant(requester, who, query, provider, api).await
    }

    /// Stops the gateway and every grain.
    pub fn stop(self) {
        self.server.abort();
        if let Some(idle) = self.idle {
            idle.abort();
        }
        for g in self.gateway.grains.values() {
            g.stop();
        }
    }
}
