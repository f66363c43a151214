//! Developer tasks for soiree-pack: code generation, schema checks, benchmarks and fuzzing.

pub mod codegen;
pub mod schema_check;

use std::path::PathBuf;

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}
