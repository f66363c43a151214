//! Shared helpers for soiree-pack's tests of run-time closures: small parties written into a
//! temporary directory, the CLI run against them, `ldd`, gcc, sysroots, and bubblewrap.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A party in a temporary directory: `party.toml`, `recipes/`, inputs, and the CLI's own data,
/// cache and output directories beside them.
pub struct Party {
    pub dir: tempfile::TempDir,
}

impl Party {
    /// A party whose one package `app` uses `recipes`, with `sources` as its `[sources]` lines.
    pub fn new(sources: &str, recipes: &[&str]) -> Party {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let uses: Vec<String> = recipes.iter().map(|r| format!("{{ use = \"{r}\" }}")).collect();
        let text = format!(
            "[party]\nname = \"closure-test\"\napp-version = 1\nmarketing-version = \"0.1.0\"\n\n\
             [sources]\n{sources}\n\n[packages.app]\ntitle = \"App\"\nrecipes = [{}]\n",
            uses.join(", ")
        );
        std::fs::write(dir.path().join("party.toml"), text).unwrap();
        std::fs::create_dir_all(dir.path().join("recipes")).unwrap();
        Party { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn recipe(&self, name: &str, text: &str) {
        std::fs::write(self.path(&format!("recipes/{name}.toml")), text).unwrap();
    }

    /// Copies a host file to `rel` under the party directory, creating parents.
    pub fn copy(&self, host: &Path, rel: &str) {
        let dest = self.path(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(host, dest).unwrap();
    }

    /// Runs `soiree-pack ARGS` in the party directory, offline, with its own keys and cache.
    pub fn run(&self, args: &[&str]) -> Output {
        soiree(self.dir.path(), self.dir.path())
            .args(args)
            .arg("--offline")
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .unwrap()
    }

    /// `build --out dist` and more arguments; the unpacked package, or the failed output.
    pub fn build(&self, extra: &[&str]) -> Result<PathBuf, Output> {
        let mut args = vec!["build", "--out", "dist"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        if !out.status.success() {
            return Err(out);
        }
        let unpacked = self.path("unpacked");
        if unpacked.exists() {
            std::fs::remove_dir_all(&unpacked).unwrap();
        }
        soiree_spk::unpack(&self.path("dist/app.spk"), &unpacked).unwrap();
        Ok(unpacked)
    }
}

/// `soiree-pack`, to run in `cwd` with `home` as its home and its data (development keys) and
/// cache under `home`, and no signing key from the environment; the supervisor it ships is
/// built first.
pub fn soiree(cwd: &Path, home: &Path) -> Command {
    ensure_grain();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_soiree-pack"));
    cmd.current_dir(cwd)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("SOIREE_SIGNING_KEY");
    cmd
}

/// Makes sure the grain supervisor that every package ships is beside soiree-pack in
/// `target/<profile>/` and up to date: `cargo test --workspace` builds it, `cargo test -p
/// soiree-pack` does not.
pub fn ensure_grain() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let pack = Path::new(env!("CARGO_BIN_EXE_soiree-pack"));
        let grain = pack.with_file_name("soiree-grain");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--quiet", "-p", "soiree-grain"]);
        if pack.parent().and_then(Path::file_name) == Some("release".as_ref()) {
            cmd.arg("--release");
        }
        let built = cmd.status().is_ok_and(|s| s.success());
        assert!(
            built && grain.exists(),
            "could not build soiree-grain beside {}",
            pack.display()
        );
    });
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A program from a Debian package the tests need; `.ci/run` installs them.
pub fn program(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.exists(),
        "{path} is missing: apt-get install {package} (.ci/run installs it)"
    );
    p
}

/// The loader and libraries `ldd` lists for `program` (the vDSO aside): the paths it names,
/// and their real paths.
pub fn ldd(program: &Path) -> Vec<(PathBuf, PathBuf)> {
    let out = Command::new("ldd").arg(program).output().expect("ldd (libc-bin)");
    assert!(out.status.success(), "ldd {} failed", program.display());
    let mut found = Vec::new();
    for line in text(&out.stdout).lines() {
        let line = line.trim();
        assert!(!line.contains("not found"), "ldd: {line}");
        let path = match line.split_once("=>") {
            Some((_, rest)) => rest.trim(),
            None => line,
        };
        let path = path.split(" (").next().unwrap_or(path).trim();
        if path.starts_with('/') {
            found.push((PathBuf::from(path), std::fs::canonicalize(path).unwrap()));
        }
    }
    found
}

/// The real paths `ldd` lists.
pub fn ldd_real(program: &Path) -> BTreeSet<PathBuf> {
    ldd(program).into_iter().map(|(_, real)| real).collect()
}

/// The grain supervisor soiree-pack ships in every package, if there is one to ship:
/// `SOIREE_GRAIN`, or `soiree-grain` beside soiree-pack.
pub fn supervisor() -> Option<PathBuf> {
    std::env::var_os("SOIREE_GRAIN")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| Some(Path::new(env!("CARGO_BIN_EXE_soiree-pack")).with_file_name("soiree-grain")))
        .filter(|p| p.is_file())
}

/// A sysroot holding, as plain files at the paths ld.so opens them under, what `ldd` lists
/// for `programs` and for the supervisor every package carries.
pub fn sysroot_for(root: &Path, programs: &[&Path]) {
    let supervisor = supervisor();
    for program in programs.iter().copied().chain(supervisor.as_deref()) {
        for (named, _) in ldd(program) {
            let dest = root.join(named.strip_prefix("/").unwrap());
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&named, &dest).unwrap();
        }
    }
}

/// The regular ELF files under `dir`, as absolute paths inside it.
pub fn elf_files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    for entry in walkdir(dir) {
        let meta = std::fs::symlink_metadata(&entry).unwrap();
        if meta.is_file() {
            let head = std::fs::read(&entry)
                .map(|b| b.get(..4) == Some(b"\x7fELF"))
                .unwrap_or(false);
            if head {
                found.insert(Path::new("/").join(entry.strip_prefix(dir).unwrap()));
            }
        }
    }
    found
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

/// Compiles C source `src` with gcc and `args` (`-o` and flags).
pub fn gcc(dir: &Path, name: &str, src: &str, args: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, src).unwrap();
    let out = Command::new("gcc")
        .arg(&file)
        .args(args)
        .output()
        .expect("gcc (apt-get install gcc; .ci/run does)");
    assert!(out.status.success(), "gcc {args:?}: {}", text(&out.stderr));
}

/// The bubblewrap flags that work on this machine, or `None` after saying why none do.
pub fn bwrap_flags() -> Option<Vec<&'static str>> {
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
    for flags in candidates {
        let ok = Command::new("bwrap")
            .args(flags)
            .args(["--ro-bind", "/", "/", "--dev", "/dev", "true"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(flags.to_vec());
        }
    }
    // A grain test that cannot run must fail, not pass without checking anything.
    panic!("bubblewrap is missing or cannot create namespaces here (.ci/run installs bubblewrap)")
}

/// Runs `argv` in bubblewrap with the unpacked package as `/` and nothing from the host: no
/// /usr, no /proc (a grain has none), a fresh /dev, and only `env` in the environment.
pub fn run_in_package(root: &Path, env: &[(&str, &str)], argv: &[&str]) -> Option<Output> {
    let flags = bwrap_flags()?;
    let mut cmd = Command::new("bwrap");
    cmd.args(&flags)
        .arg("--bind")
        .arg(root)
        .args(["/", "--dev", "/dev", "--clearenv", "--chdir", "/"]);
    for (k, v) in env {
        cmd.args(["--setenv", k, v]);
    }
    Some(cmd.args(argv).output().expect("bwrap"))
}
