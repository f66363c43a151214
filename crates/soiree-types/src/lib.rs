//! The values every layer above the package format shares: the file tree a package is packed from, app and package ids, and text made safe to print.
//!
//! Split from soiree-spk so that the crates that only build trees and name apps (soiree-deps,
//! soiree-source, soiree-party) need none of xz, Ed25519 or Cap'n Proto; soiree-spk re-exports
//! everything here under its old names.

pub mod display;
pub mod error;
pub mod ids;
pub mod tree;

pub use error::TreeError;
pub use ids::{AppId, AppIdError, PackageId};
pub use tree::{special_file_kind, Dir, Entry, Node, NotADirectory, Source};
