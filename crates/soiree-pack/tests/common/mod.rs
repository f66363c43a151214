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
        // A developer's own cache settings would send the tests' blocks into their cache.
        .env_remove("SOIREE_PACK_CACHE_DIR")
        .env_remove("SOIREE_PACK_CACHE_SIZE")
        .env_remove("SOIREE_SIGNING_KEY");
    cmd
}

/// Makes sure the grain supervisor that every package ships, and the programs recipes map
/// (`soiree-relay`, `soiree-tunnel`), are beside soiree-pack in `target/<profile>/` and up to
/// date: `cargo test --workspace` builds them, `cargo test -p soiree-pack` does not.
pub fn ensure_grain() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let pack = Path::new(env!("CARGO_BIN_EXE_soiree-pack"));
        let grain = pack.with_file_name("soiree-grain");
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "soiree-grain",
            "-p",
            "soiree-relay",
            "-p",
            "soiree-tunnel",
        ]);
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

// Each test binary uses some of these.
#[allow(unused_imports)]
pub use soiree_test_support::{gcc, ldd, ldd_real, program, text};

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

/// Runs `argv` in bubblewrap with the unpacked package as `/` and nothing from the host: no
/// /usr, no /proc (a grain has none), a fresh /dev, and only `env` in the environment.
pub fn run_in_package(root: &Path, env: &[(&str, &str)], argv: &[&str]) -> Output {
    soiree_test_support::run_isolated(root, env, argv)
}

/// The repository's party written into `dir`: its recipes copied and its `party.toml` with the
/// fixtures' paths made absolute, so that builds read the repository's fixtures in place.
pub fn repo_party_in(dir: &Path) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::create_dir(dir.join("recipes")).unwrap();
    for e in std::fs::read_dir(repo.join("recipes")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join("recipes").join(e.file_name())).unwrap();
    }
    let root = repo.display().to_string();
    let toml = std::fs::read_to_string(repo.join("party.toml"))
        .unwrap()
        .replace("path = \"fixtures/", &format!("path = \"{root}/fixtures/"))
        .replace("icon = \"fixtures/", &format!("icon = \"{root}/fixtures/"));
    std::fs::write(dir.join("party.toml"), toml).unwrap();
}
