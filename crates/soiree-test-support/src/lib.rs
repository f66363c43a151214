//! Helpers the workspace's tests share: the Debian programs they need, `ldd`, gcc, and running a package tree in bubblewrap.
//!
//! Only tests depend on this crate (as a dev-dependency). A helper that cannot do its job
//! panics with what to install: a test that cannot run must fail, never pass unchecked.

mod programs;
mod sandbox;

pub use programs::{gcc, ldd, ldd_real, program, text, tool};
pub use sandbox::{bwrap_flags, run_isolated};
