//! Files soiree-pack shares with the user and with its other runs: locks that name their holder, folders it may replace because it made them, leftovers of killed runs, private folders.
//!
//! Everything here is about not losing what is not ours: a folder is replaced only when a
//! manifest inside it says soiree-pack made every entry in it, a leftover is removed only when no
//! running process holds it, and two runs that would share a file take turns through a lock.

pub mod lock;
pub mod owned;
pub mod private;
pub mod stale;

pub use lock::{Lock, LockError};
pub use owned::{OwnedDir, OwnershipError, MARKER};
pub use private::create_private_dir;

/// The directory `path` is in (`.` for a bare file name): where a temp file goes before the
/// rename into place beside it.
pub fn parent_dir(path: &std::path::Path) -> &std::path::Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    }
}
