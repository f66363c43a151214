//! Shared helpers for soiree-deps' integration tests: the Debian programs they use, `ldd`,
//! packing a closure, and running a package inside bubblewrap.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use soiree_schema::manifest_capnp::manifest;
use soiree_spk::{Compression, Entry, KeyPair};

// Each test binary uses some of these.
#[allow(unused_imports)]
pub use soiree_test_support::ldd_real as ldd;
#[allow(unused_imports)]
pub use soiree_test_support::{gcc, program, tool};

/// Runs `argv` in bubblewrap with `root` as `/` and nothing else from the host, `PATH` set to
/// `/usr/bin:/bin` and `env` besides.
pub fn run_isolated(root: &Path, env: &[(&str, &str)], argv: &[&str]) -> Output {
    let mut all = vec![("PATH", "/usr/bin:/bin")];
    all.extend_from_slice(env);
    soiree_test_support::run_isolated(root, &all, argv)
}

pub fn godot() -> PathBuf {
    program("/usr/bin/godot3-server", "godot3-server")
}

pub fn redis() -> PathBuf {
    program("/usr/bin/redis-server", "redis-server")
}

pub fn nginx() -> PathBuf {
    program("/usr/sbin/nginx", "nginx-light")
}

/// `/usr/lib/erlang/erts-*/bin/beam.smp`.
pub fn beam() -> PathBuf {
    let erlang = Path::new("/usr/lib/erlang");
    let found = std::fs::read_dir(erlang).ok().and_then(|dir| {
        dir.filter_map(|e| e.ok())
            .map(|e| e.path().join("bin/beam.smp"))
            .find(|p| {
                p.parent()
                    .and_then(|d| d.parent())
                    .and_then(|d| d.file_name())
                    .is_some_and(|n| n.to_string_lossy().starts_with("erts-"))
                    && p.exists()
            })
    });
    found.expect("beam.smp is missing: apt-get install erlang-base (.ci/run installs it)")
}

/// A framed `Manifest` message that runs `argv`.
pub fn manifest_bytes(argv: &[&str]) -> Vec<u8> {
    let mut b = capnp::message::Builder::new_default();
    {
        let mut m = b.init_root::<manifest::Builder>();
        m.set_app_version(1);
        m.reborrow().init_app_title().set_default_text("Closure Test");
        m.reborrow()
            .init_app_marketing_version()
            .set_default_text("0.0.1");
        let mut list = m.reborrow().init_continue_command().init_argv(argv.len() as u32);
        for (i, arg) in argv.iter().enumerate() {
            list.set(i as u32, *arg);
        }
        let mut meta = m.init_metadata();
        meta.set_website("https://v-sekai.org/");
        meta.set_code_url("https://github.com/V-Sekai/soiree-pack");
    }
    capnp::serialize::write_message_to_words(&b)
}

/// Packs `closure` with a manifest that runs `argv` into an .spk, unpacks it, and returns the
/// unpacked directory.
pub fn pack_and_unpack(closure: &soiree_deps::Closure, argv: &[&str], work: &Path) -> PathBuf {
    pack_tree_and_unpack(closure.to_dir(0).unwrap(), argv, work)
}

/// Packs `tree` with a manifest that runs `argv` into an .spk, unpacks it, and returns the
/// unpacked directory.
pub fn pack_tree_and_unpack(mut tree: soiree_spk::Dir, argv: &[&str], work: &Path) -> PathBuf {
    tree.entries.insert(
        b"sandstorm-manifest".to_vec(),
        Entry::bytes(manifest_bytes(argv), false, 0),
    );
    tree.add_sandbox_mount_points(0).unwrap();
    let spk = work.join("app.spk");
    let key = KeyPair::from_seed(&[1; 32]);
    soiree_spk::pack(&tree, &key, &spk, Compression::fast()).unwrap();
    let unpacked = work.join("unpacked");
    soiree_spk::unpack(&spk, &unpacked).unwrap();
    unpacked
}

/// Copies a host file to `root` + the same path, creating parents, keeping its mode.
pub fn copy_into(root: &Path, host: &Path, in_root: &str) {
    let dest = root.join(in_root.trim_start_matches('/'));
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::copy(host, &dest).unwrap();
}

pub fn symlink(root: &Path, target: &str, in_root: &str) {
    let link = root.join(in_root.trim_start_matches('/'));
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Copies every entry of a closure into `root` (files and symlinks as they are), except those
/// `skip` says no to: a sysroot holding exactly what a program needs.
pub fn copy_closure(closure: &soiree_deps::Closure, root: &Path, skip: impl Fn(&Path) -> bool) {
    for entry in closure.entries.values() {
        if skip(&entry.path) {
            continue;
        }
        let dest = root.join(entry.path.strip_prefix("/").unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        match &entry.kind {
            soiree_deps::EntryKind::File { .. } => {
                std::fs::copy(&entry.host_path, &dest).unwrap();
            }
            soiree_deps::EntryKind::Symlink { target } => {
                std::os::unix::fs::symlink(target, &dest).unwrap();
            }
        }
    }
}

/// `ldd` on `program` with `env` set; its lines (vdso aside), or the failure.
pub fn ldd_lines(program: &Path, env: &[(&str, &str)]) -> String {
    let out = Command::new("ldd")
        .arg(program)
        .envs(env.iter().copied())
        .output()
        .expect("ldd");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
