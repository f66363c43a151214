//! The build pipeline as a library: a party's sources resolved and locked, its packages planned, staged, packed and signed into an output folder.
//!
//! `party.toml` → [`soiree_party::Party`] → [`sources`] → per package [`build_package`]: plan,
//! signing key ([`keys::KeyPolicy`]), pack ([`Packer`]), stage and switch the outputs in together
//! ([`outputs`]). [`lock::lock_downloads`] pins a party's downloads in `party.lock`. The CLI,
//! `up` and the benchmarks drive builds through this crate; every error says its class.

pub mod error;
pub mod image;
pub mod keys;
pub mod lock;
pub mod outputs;
pub mod package;
pub mod packer;
pub mod sources;

pub use error::{BuildError, Class};
pub use image::{build_image, image_reference};
pub use keys::{KeyPolicy, SigningKey};
pub use package::{build_package, build_package_observed, find_package, Built};
pub use packer::Packer;
pub use sources::{sources, SourceOptions};
