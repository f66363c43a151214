//! Fetch, verify and unpack the inputs a recipe names: local paths, archives and pinned URLs.
//!
//! A [`Source`] is resolved by a [`Fetcher`] into a file or directory on disk ([`Resolved`]):
//! local paths as they are, command outputs built once per set of inputs ([`CommandSpec`]), URLs downloaded into a content-addressed [`Cache`] and verified
//! against their sha256 before they get their final name, archives unpacked once per digest
//! with every member kept inside the extraction root. [`map_files`] then selects files from a
//! resolved source for a [`Mapping`], and a [`FileSet`] collects a package's entries with their
//! origins and puts them into a [`soiree_types::Dir`]. [`Lock`] reads and updates `party.lock`.

mod cache;
mod cache_entries;
pub mod command;
mod confine;
mod digest;
mod download;
pub mod error;
mod extract;
mod fetch;
mod fileset;
pub mod lock;
mod mapping;
mod source;

pub use cache::{Cache, IN_USE_LOCK};
pub use cache_entries::{CachedEntry, CachedKind};
pub use command::CommandSpec;
pub use digest::Sha256;
pub use error::{Error, Result};
pub use extract::extract;
pub use fetch::{Fetcher, Resolved};
pub use fileset::{insert_entries, FileSet};
pub use lock::{Lock, LockEntry, LOCK_FILE_NAME};
pub use mapping::{map_files, parse_target, EntryKind, MappedEntry, Mapping, Origin};
pub use source::{ArchiveFormat, Location, Source, UrlPin};
