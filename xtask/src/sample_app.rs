//! Minimal valid app trees for benchmarks and fuzz seeds: a `sandstorm-manifest` built with
//! soiree-schema's bindings, and small files beside it.

use std::path::Path;

use soiree_schema::manifest_capnp::manifest;

/// A framed `Manifest` message that `soiree-pack pack` accepts (title, marketing version,
/// continue command, http(s) URLs).
pub fn manifest_bytes(title: &str) -> Vec<u8> {
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_title().set_default_text(title);
        m.reborrow()
            .init_app_marketing_version()
            .set_default_text("0.0.1");
        let mut argv = m.reborrow().init_continue_command().init_argv(1);
        argv.set(0, "/bin/app");
        let mut meta = m.init_metadata();
        meta.set_website("https://v-sekai.org/");
        meta.set_code_url("https://github.com/V-Sekai/soiree-pack");
    }
    capnp::serialize::write_message_to_words(&b)
}

pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `root/sandstorm-manifest`.
pub fn write_manifest(root: &Path, title: &str) -> Result<(), String> {
    write_file(&root.join("sandstorm-manifest"), &manifest_bytes(title))
}

/// A small app: the manifest, an executable, a data file, a symlink and an empty directory.
pub fn write_small_app(root: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    write_manifest(root, "Fuzz Seed")?;
    let app = root.join("bin/app");
    write_file(&app, b"#!/bin/sh\necho hello\n")?;
    std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", app.display()))?;
    write_file(&root.join("share/readme.txt"), b"read me\n")?;
    let empty = root.join("share/empty");
    std::fs::create_dir_all(&empty).map_err(|e| format!("{}: {e}", empty.display()))?;
    let link = root.join("bin/readme");
    std::os::unix::fs::symlink("../share/readme.txt", &link).map_err(|e| format!("{}: {e}", link.display()))
}
