//! Write a package tree, cut into layers, as a reproducible OCI image layout; push a layout to a registry.
//!
//! Knows nothing of parties or plans: the caller says which paths go in which layer and what the
//! image runs ([`ImageSpec`]). Bytes depend only on those inputs: entries sorted, owners, modes
//! and times normalised, gzip without a timestamp, JSON with sorted keys.

pub mod blobs;
pub mod credentials;
pub mod error;
pub mod layer_tar;
pub mod layout;
pub mod push;
pub mod rfc3339;

pub use error::{OciError, PushError};
pub use layer_tar::Owner;
pub use layout::{write_layout, ImageSpec, Layer, WrittenImage, WrittenLayer};
pub use push::{push_layout, PushOptions, Pushed};
