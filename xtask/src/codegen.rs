//! `cargo xtask codegen`: regenerate the committed Cap'n Proto bindings of `soiree-schema`.

use std::path::{Path, PathBuf};

/// The schema files, relative to the schema directory, in generation order.
pub const SCHEMA_FILES: &[&str] = &[
    "archive.capnp",
    "grain.capnp",
    "manifest.capnp",
    "powerbox.capnp",
    "util.capnp",
    "web-session.capnp",
];

pub fn schema_dir(root: &Path) -> PathBuf {
    root.join("crates/soiree-schema/schema")
}

pub fn generated_dir(root: &Path) -> PathBuf {
    root.join("crates/soiree-schema/src/generated")
}

/// Runs `capnp compile` with the capnpc-rust plugin, writing `<name>_capnp.rs` files into `out`.
pub fn generate(root: &Path, out: &Path) -> Result<(), String> {
    let dir = schema_dir(root);
    let mut cmd = capnpc::CompilerCommand::new();
    cmd.src_prefix(&dir)
        .import_path(&dir)
        .output_path(out)
        .default_parent_module(vec!["generated".into()]);
    for file in SCHEMA_FILES {
        cmd.file(dir.join(file));
    }
    cmd.run().map_err(|e| {
        format!("capnp compile failed: {e}\n(are the `capnp` tool and its standard schemas installed? `apt-get install capnproto libcapnp-dev`)")
    })
}
