//! Shared helpers for soiree-spk's integration tests.
#![allow(dead_code)]

pub mod craft;

use std::path::{Path, PathBuf};

use soiree_schema::manifest_capnp::manifest;
use soiree_spk::{Compression, KeyPair};

/// A deterministic key for tests.
pub fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed(&[seed; 32])
}

/// Manifest fields a test may want to vary.
pub struct ManifestSpec<'a> {
    pub title: Option<&'a str>,
    pub version: u32,
    pub marketing: Option<&'a str>,
    pub website: Option<&'a str>,
    pub code_url: Option<&'a str>,
    pub max_api_version: u32,
}

impl Default for ManifestSpec<'_> {
    fn default() -> Self {
        ManifestSpec {
            title: Some("Test App"),
            version: 7,
            marketing: Some("1.2.3"),
            website: Some("https://v-sekai.org/"),
            code_url: Some("https://github.com/V-Sekai/soiree-pack"),
            max_api_version: 0,
        }
    }
}

/// A framed `Manifest` message.
pub fn manifest_bytes(spec: &ManifestSpec) -> Vec<u8> {
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(spec.version);
        m.set_max_api_version(spec.max_api_version);
        if let Some(t) = spec.title {
            m.reborrow().init_app_title().set_default_text(t);
        }
        if let Some(t) = spec.marketing {
            m.reborrow().init_app_marketing_version().set_default_text(t);
        }
        let mut argv = m.reborrow().init_continue_command().init_argv(1);
        argv.set(0, "/bin/app");
        let mut meta = m.init_metadata();
        if let Some(w) = spec.website {
            meta.set_website(w);
        }
        if let Some(c) = spec.code_url {
            meta.set_code_url(c);
        }
    }
    capnp::serialize::write_message_to_words(&b)
}

pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A small app tree: a manifest, an executable, a regular file, a symlink, nested and empty
/// directories.
pub fn sample_tree(root: &Path) {
    write(
        &root.join("sandstorm-manifest"),
        &manifest_bytes(&ManifestSpec::default()),
    );
    write(&root.join("bin/app"), b"#!/bin/sh\necho hello from the grain\n");
    set_mode(&root.join("bin/app"), 0o755);
    write(&root.join("share/doc/readme.txt"), b"read me\n");
    write(
        &root.join("share/data.bin"),
        &(0..=255u8).cycle().take(100_003).collect::<Vec<_>>(),
    );
    std::fs::create_dir_all(root.join("share/empty/deeper")).unwrap();
    std::os::unix::fs::symlink("../share/doc/readme.txt", root.join("bin/readme")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("abs-link")).unwrap();
}

/// Packs `root` as `soiree-pack pack` would, with a fixed epoch.
pub fn pack_dir(root: &Path, key: &KeyPair, out: &Path) -> soiree_spk::Written {
    let tree = soiree_spk::scan_for_packing(root, Some(1_700_000_000_000_000_000)).unwrap();
    soiree_spk::pack(&tree, key, out, Compression::default()).unwrap()
}

/// Splits a decompressed payload into its first message and the rest.
pub fn split_first_message(payload: &[u8]) -> (&[u8], &[u8]) {
    let n = u32::from_le_bytes(payload[0..4].try_into().unwrap()) as usize + 1;
    let mut len = (4 + 4 * n).div_ceil(8) * 8;
    for i in 0..n {
        len += 8 * u32::from_le_bytes(payload[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize;
    }
    payload.split_at(len)
}

/// `xz --robot --list` with `verbosity` (`-v`, `-vv`) of the xz streams after the magic, written
/// beside `spk` as a `.xz` file the tool can read.
pub fn xz_list(spk: &Path, verbosity: &str) -> String {
    let xz = spk.with_extension("xz");
    std::fs::write(&xz, &std::fs::read(spk).unwrap()[8..]).unwrap();
    let out = std::process::Command::new("xz")
        .args(["--robot", "--list", verbosity])
        .arg(&xz)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `xz -dc` of everything after the magic, with the real xz tool.
pub fn xz_payload(spk: &Path) -> Vec<u8> {
    let bytes = std::fs::read(spk).unwrap();
    let out = std::process::Command::new("xz")
        .args(["-dc"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            let body = bytes[8..].to_vec();
            let feeder = std::thread::spawn(move || stdin.write_all(&body));
            let out = child.wait_with_output();
            feeder.join().unwrap().unwrap();
            out
        })
        .expect("the xz tool (apt-get install xz-utils)");
    assert!(out.status.success(), "xz -dc failed");
    out.stdout
}

/// Builds an .spk from raw parts: `MAGIC ‖ xz(payload)`, for crafting bad packages.
pub fn spk_from_payload(payload: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = soiree_schema::SPK_MAGIC.to_vec();
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(payload).unwrap();
    out.extend(xz.finish().unwrap());
    out
}

/// Where the `../shared` folder is, if this checkout has one beside it.
pub fn shared_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    p.is_dir().then(|| p.canonicalize().unwrap())
}
