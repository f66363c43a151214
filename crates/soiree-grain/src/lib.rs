//! The grain supervisor: runs a package's services (from `/opt/soiree/services.json`) inside a Sandstorm grain.
//!
//! It creates their `/var` directories, starts them in dependency order, waits for each one's
//! readiness check, runs first-run commands once per grain, generates per-grain secrets once, restarts what crashes with backoff,
//! prefixes their output with their names, and on SIGTERM stops them in reverse order. It also
//! serves the package's Powerbox links (`links.rs`): the page that asks for them, the claim, and
//! a local forwarder per granted API. It needs
//! no `/proc`, no privileges and no writable path but `/var` (and `/tmp`).

pub mod agones;
pub mod config;
pub mod first_run;
pub mod forward;
pub mod http1;
pub mod link_page;
pub mod link_store;
pub mod links;
pub mod log;
pub mod order;
pub mod ready;
pub mod ready_mark;
pub mod relay;
pub mod secrets;
mod store;
pub mod supervise;
pub mod tcp_forward;

pub use config::{Config, Forward, LinkRequest, Links, Ready, Restart, Service};
pub use supervise::{run, Options};

/// Why the grain could not run; the supervisor exits with status 1 after any of these.
#[derive(Debug)]
pub enum Error {
    /// services.json is unreadable or inconsistent.
    Config(String),
    /// A service's program could not be started.
    Start(String),
    /// A readiness check did not pass in time, or the service ended first.
    NotReady(String),
    /// A first-run command failed.
    FirstRun(String),
    /// The grain's storage or the system refused something.
    Io(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Config(m) => write!(f, "services.json: {m}"),
            Error::Start(m) | Error::NotReady(m) | Error::FirstRun(m) | Error::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}
