//! Turn a composed party package into its `.spk` contents: file tree, manifest, bridge config, powerbox descriptors, pkgdef.

pub mod manifest;
pub mod pkgdef;
pub mod plan;
pub mod powerbox;
pub mod sources;
pub mod tree;

pub use plan::{plan, Plan};
pub use sources::Sources;
