//! Developer tasks for soiree-pack: code generation, schema checks, benchmarks and fuzzing.

pub mod bench;
pub mod bench_deps;
pub mod bench_incremental;
pub mod bench_measure;
pub mod bench_relay;
pub mod bench_report;
pub mod bench_tree;
pub mod cli_docs;
pub mod codegen;
pub mod fuzz;
pub mod fuzz_seeds;
pub mod sample_app;
pub mod schema_check;
pub mod test_deps;

use std::path::PathBuf;

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}
