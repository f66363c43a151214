//! Helpers the workspace's tests share: the Debian programs they need, `ldd`, gcc, running a package tree in bubblewrap, isolated podman, loopback HTTP, and what tests of `up` share.
//!
//! Only tests depend on this crate (as a dev-dependency). A helper that cannot do its job
//! panics with what to install: a test that cannot run must fail, never pass unchecked.

mod chromium;
mod logged;
mod net;
mod podman;
mod programs;
mod sandbox;
mod up_party;

pub use chromium::{enter_grain_frame, link_through_picker, step, Chromium};
pub use logged::Logged;
pub use net::{free_tcp_port, free_udp_port, http_get, http_request, wait_until};
pub use podman::Podman;
pub use programs::{gcc, ldd, ldd_real, processes_naming, program, succeeded, text, tool};
pub use sandbox::{bwrap_flags, run_isolated};
pub use up_party::{gateway_port, sandstorm_bundle};
