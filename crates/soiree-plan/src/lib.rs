//! Turn a composed party package into its `.spk` contents: file tree, manifest, bridge config, powerbox descriptors, pkgdef.

pub mod closure;
pub mod container;
pub mod error;
pub mod explain;
pub mod layers;
pub mod links;
pub mod listing;
pub mod listing_page;
pub mod manifest;
pub mod pkgdef;
pub mod plan;
pub mod powerbox;
pub mod provenance;
pub mod sources;
pub mod tree;

pub use error::PlanError;
pub use plan::{plan, services_config, Plan};
pub use sources::Sources;
