//! Shared helpers for soiree-deps' integration tests: the Debian programs they use, `ldd`,
//! packing a closure, and running a package inside bubblewrap.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use soiree_schema::manifest_capnp::manifest;
use soiree_spk::{Compression, Entry, KeyPair};

/// A program from a Debian package the tests need; `.ci/run` installs them.
pub fn program(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.exists(),
        "{path} is missing: apt-get install {package} (.ci/run installs it)"
    );
    p
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

/// The real paths of the libraries and loader `ldd` lists for `program` (the vDSO aside).
pub fn ldd(program: &Path) -> BTreeSet<PathBuf> {
    let out = Command::new("ldd").arg(program).output().expect("ldd (libc-bin)");
    assert!(out.status.success(), "ldd {} failed", program.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut paths = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        assert!(!line.contains("not found"), "ldd: {line}");
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.trim(),
            None => line,
        };
        let path = path.split(" (").next().unwrap_or(path).trim();
        if path.starts_with('/') {
            paths.insert(std::fs::canonicalize(path).unwrap());
        }
    }
    paths
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

/// The bubblewrap flags that work on this machine for an isolated run, or why none do.
pub fn bwrap_flags() -> Result<Vec<&'static str>, String> {
    if Command::new("bwrap").arg("--version").output().is_err() {
        return Err("bwrap is not installed (apt-get install bubblewrap)".into());
    }
    let empty = tempfile::tempdir().map_err(|e| e.to_string())?;
    let candidates: [&[&str]; 3] = [
        &["--unshare-all"],
        &["--unshare-all", "--unshare-user"],
        &[
            "--unshare-user-try",
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-uts",
            "--unshare-net",
        ],
    ];
    let mut errors = Vec::new();
    for flags in candidates {
        // `true` from the host's own /usr: this checks that the namespaces can be made at all.
        let out = Command::new("bwrap")
            .args(flags)
            .args(["--ro-bind", "/", "/", "--bind"])
            .arg(empty.path())
            .args(["/mnt", "--dev", "/dev", "true"])
            .output();
        match out {
            Ok(o) if o.status.success() => return Ok(flags.to_vec()),
            Ok(o) => errors.push(format!(
                "{}: {}",
                flags.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => errors.push(format!("{}: {e}", flags.join(" "))),
        }
    }
    Err(format!(
        "bubblewrap cannot create namespaces here: {}",
        errors.join("; ")
    ))
}

/// Runs `argv` inside bubblewrap with `root` as `/` and nothing else from the host (no /usr, no
/// /proc) and a fresh /dev. No tmpfs on /tmp: the test scripts keep their host paths inside the
/// package, and a checkout under /tmp (as CI's may be) would be hidden by one.
pub fn run_isolated(flags: &[&str], root: &Path, argv: &[&str]) -> Output {
    run_isolated_with_env(flags, root, &[], argv)
}

/// [`run_isolated`] with these variables set as well.
pub fn run_isolated_with_env(flags: &[&str], root: &Path, env: &[(&str, &str)], argv: &[&str]) -> Output {
    let mut cmd = Command::new("bwrap");
    cmd.args(flags)
        .arg("--bind")
        .arg(root)
        .args(["/", "--dev", "/dev", "--clearenv"])
        .args(["--setenv", "PATH", "/usr/bin:/bin", "--chdir", "/"]);
    for (k, v) in env {
        cmd.args(["--setenv", k, v]);
    }
    cmd.args(argv).output().expect("bwrap")
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

/// Runs a build tool (gcc, patchelf), failing the test with its output if it fails.
pub fn tool(program: &str, args: &[&str], package: &str) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (apt-get install {package}; .ci/run does)"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compiles C source `src` with gcc and `args` (`-o` and flags).
pub fn gcc(dir: &Path, src_name: &str, src: &str, args: &[&str]) {
    let file = dir.join(src_name);
    std::fs::write(&file, src).unwrap();
    let mut all = vec![file.to_str().unwrap()];
    all.extend_from_slice(args);
    tool("gcc", &all, "gcc");
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
