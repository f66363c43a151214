//! Read `party.toml` and `recipes/` into a validated model, with diagnostics that point into the files.

mod bridge;
pub mod catalog;
mod command_source;
mod compose;
mod contribute;
mod deps;
pub mod diagnostic;
pub mod edit;
mod every_error;
mod listings;
mod load;
pub mod model;
pub mod params;
mod powerbox;
mod profile_packages;
pub mod schema;
mod services;
pub mod vocab;

pub use diagnostic::{PartyError, Problems, SourceFile};
pub use load::{load, load_for_lock, load_with};
pub use model::*;
