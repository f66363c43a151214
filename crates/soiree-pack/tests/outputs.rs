//! Nothing the user has is lost to `build`: it replaces only the outputs it made, both outputs of
//! a package change together (a full disk leaves the old ones), what a killed run left is cleaned
//! up, and two runs that share an output folder or a grain's `/var` take turns.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{text, Party};

/// A party whose package `NAME` maps the folder `input/` to `/srv`.
fn party(package: &str) -> Party {
    let p = Party::new("input = { path = \"input\" }", &["web"]);
    let toml = std::fs::read_to_string(p.path("party.toml")).unwrap();
    std::fs::write(
        p.path("party.toml"),
        toml.replace("[packages.app]", &format!("[packages.{package}]")),
    )
    .unwrap();
    p.recipe("web", "[[files]]\nsource = \"input\"\nto = \"/srv\"\n");
    std::fs::create_dir_all(p.path("input")).unwrap();
    std::fs::write(p.path("input/index.html"), "<h1>party</h1>\n").unwrap();
    p
}

/// `soiree-pack CMD` in the party's folder; `build` offline.
fn party_cmd(p: &Party, cmd: &str) -> std::process::Output {
    let mut c = common::soiree(p.dir.path(), p.dir.path());
    c.arg(cmd);
    if cmd == "build" {
        c.arg("--offline");
    }
    c.output().unwrap()
}

fn sha(path: &Path) -> String {
    use sha2::Digest;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

/// Every path under `dir` with the sha256 of each file: what "left as it was" compares.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if meta.is_dir() {
                stack.push(p);
                out.push((rel, "dir".into()));
            } else if meta.is_file() {
                out.push((rel, sha(&p)));
            } else {
                out.push((rel, format!("-> {}", std::fs::read_link(&p).unwrap().display())));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn build_refuses_a_folder_it_did_not_make() {
    let p = party("app");
    std::fs::create_dir_all(p.path("dist/app")).unwrap();
    std::fs::write(p.path("dist/app/notes.txt"), "mine\n").unwrap();
    let out = p.run(&["build", "--out", "dist"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("dist/app exists and soiree-pack did not make it"),
        "{err}"
    );
    assert!(err.contains("move it away, or build with another --out"), "{err}");
    assert_eq!(
        std::fs::read_to_string(p.path("dist/app/notes.txt")).unwrap(),
        "mine\n"
    );
    assert!(
        !p.path("dist/app.spk").exists(),
        "nothing is written for a refused package"
    );
}

#[test]
fn a_package_named_like_a_repository_folder_does_not_replace_it() {
    let p = party("recipes");
    let before = snapshot(&p.path("recipes"));
    let out = p.run(&["build", "--out", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("recipes exists and soiree-pack did not make it"));
    assert_eq!(snapshot(&p.path("recipes")), before);
}

#[test]
fn build_replaces_its_own_outputs_but_not_a_file_added_to_them() {
    let p = party("app");
    let first = p.run(&["build", "--out", "dist"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    std::fs::write(p.path("input/index.html"), "<h1>changed</h1>\n").unwrap();
    let second = p.run(&["build", "--out", "dist"]);
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert_eq!(
        std::fs::read_to_string(p.path("dist/app/root/srv/index.html")).unwrap(),
        "<h1>changed</h1>\n"
    );
    std::fs::write(p.path("dist/app/root/srv/notes.txt"), "mine\n").unwrap();
    let third = p.run(&["build", "--out", "dist"]);
    assert_eq!(third.status.code(), Some(1));
    assert!(
        text(&third.stderr).contains("holds root/srv/notes.txt, which soiree-pack did not write"),
        "{}",
        text(&third.stderr)
    );
    assert!(p.path("dist/app/root/srv/notes.txt").exists());
    // A file of the user's where the package goes is refused the same way.
    std::fs::remove_dir_all(p.path("dist")).unwrap();
    std::fs::create_dir(p.path("dist")).unwrap();
    std::fs::write(p.path("dist/app.spk"), "my notes, not a package").unwrap();
    let fourth = p.run(&["build", "--out", "dist"]);
    assert_eq!(fourth.status.code(), Some(1));
    assert!(text(&fourth.stderr).contains("is not a Sandstorm package"));
    assert_eq!(
        std::fs::read_to_string(p.path("dist/app.spk")).unwrap(),
        "my notes, not a package"
    );
}

/// A real full disk: the output folder is a size-limited tmpfs (bubblewrap's `--size`) holding
/// the outputs of a first build; the second build's package fits, its staged tree does not.
#[test]
fn a_full_disk_leaves_both_outputs_as_they_were() {
    let p = party("app");
    let first = p.run(&["build", "--out", "dist"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let used: u64 = snapshot(&p.path("dist"))
        .iter()
        .filter(|(_, h)| h.len() == 64)
        .map(|(rel, _)| std::fs::metadata(p.path("dist").join(rel)).unwrap().len())
        .sum();
    // 16 MiB of zeros: a few KiB in the package, 16 MiB in the staged tree.
    std::fs::write(p.path("input/big"), vec![0u8; 16 << 20]).unwrap();
    let limit = 2 * used + (4 << 20);
    let mnt = p.path("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let script = format!(
        "cp -a dist/. {m}/ && \"$0\" build --out {m} --offline; echo $? > rc; \
         cp -a {m} after",
        m = mnt.display()
    );
    common::ensure_grain();
    let out = std::process::Command::new(common::program("/usr/bin/bwrap", "bubblewrap"))
        .args(["--dev-bind", "/", "/", "--size", &limit.to_string(), "--tmpfs"])
        .arg(&mnt)
        .args(["--chdir"])
        .arg(p.dir.path())
        .args(["sh", "-c", &script, env!("CARGO_BIN_EXE_soiree-pack")])
        .env("HOME", p.dir.path())
        .env("XDG_DATA_HOME", p.path("data"))
        .env("XDG_CACHE_HOME", p.path("cache"))
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("SOIREE_SIGNING_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "bwrap: {}", text(&out.stderr));
    let rc = std::fs::read_to_string(p.path("rc")).unwrap();
    // A full disk is the machine's fault: exit 3 (docs/exit-codes.md).
    assert_eq!(
        rc.trim(),
        "3",
        "the build must fail on the full disk: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("No space left on device"),
        "{}",
        text(&out.stderr)
    );
    let mut after = snapshot(&p.path("after"));
    after.retain(|(rel, _)| rel != ".app.lock");
    let mut before = snapshot(&p.path("dist"));
    before.retain(|(rel, _)| rel != ".app.lock");
    assert_eq!(
        after, before,
        "the old package and staged folder stay, and nothing else is left"
    );
}

#[test]
fn what_a_killed_run_left_is_removed_and_what_a_running_one_writes_is_not() {
    let p = party("app");
    std::fs::create_dir(p.path("dist")).unwrap();
    // As SIGKILL leaves them: a package's temp file (no process holds its lock) and a staging
    // folder of `app`; and a temp file another running pack still writes (lock held).
    std::fs::write(p.path("dist/.soiree-pack-Xk3f9a.spk.tmp"), vec![7u8; 1 << 20]).unwrap();
    std::fs::create_dir_all(p.path("dist/.app.staging-Q1w2e3/root")).unwrap();
    let held = p.path("dist/.soiree-pack-Held01.spk.tmp");
    let held_file = std::fs::File::create(&held).unwrap();
    held_file.lock().unwrap();
    std::fs::write(p.path("dist/.soiree-pack-notes.txt"), "mine").unwrap();

    let out = p.run(&["build", "--out", "dist"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!p.path("dist/.soiree-pack-Xk3f9a.spk.tmp").exists());
    assert!(!p.path("dist/.app.staging-Q1w2e3").exists());
    assert!(held.exists(), "a temp file a running process holds stays");
    assert!(
        p.path("dist/.soiree-pack-notes.txt").exists(),
        "names the tool does not make stay"
    );
    let names: Vec<String> = std::fs::read_dir(p.path("dist"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("staging") || n.ends_with(".new")),
        "{names:?}"
    );
}

#[test]
fn a_second_build_into_the_same_folder_waits_and_says_for_whom() {
    let p = party("app");
    std::fs::create_dir(p.path("dist")).unwrap();
    let lock = soiree_fs::Lock::try_acquire(&p.path("dist/.app.lock"), "a test holding the lock").unwrap();
    let mut child = common::soiree(p.dir.path(), p.dir.path())
        .args(["build", "--out", "dist", "--offline"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !line.contains("Blocking") {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "build ended without waiting"
        );
        assert!(Instant::now() < deadline);
    }
    assert!(
        line.contains(&format!(
            "held by pid {} (a test holding the lock)",
            std::process::id()
        )),
        "{line}"
    );
    assert!(
        !p.path("dist/app.spk").exists(),
        "nothing is written while the lock is held"
    );
    drop(lock);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(p.path("dist/app.spk").exists());
}

#[test]
fn concurrent_builds_into_one_folder_all_succeed_and_leave_nothing_behind() {
    let p = party("app");
    let children: Vec<_> = (0..3)
        .map(|_| {
            common::soiree(p.dir.path(), p.dir.path())
                .args(["build", "--out", "dist", "--offline"])
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let mut names: Vec<String> = std::fs::read_dir(p.path("dist"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".app.lock", "app", "app.spk"]);
}

#[test]
fn a_grain_var_in_use_is_refused_naming_its_holder() {
    let p = party("app");
    let var = p.path("var");
    std::fs::create_dir(&var).unwrap();
    let _lock = soiree_fs::Lock::try_acquire(&p.path("var.lock"), "soiree-pack up").unwrap();
    let out = p.run(&["run", "app", "--var", "var"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("is in use by pid"), "{err}");
    assert!(err.contains("(soiree-pack up)"), "{err}");
}

#[test]
fn a_party_name_that_is_a_path_is_refused_by_check_and_build_alike() {
    for name in ["/tmp/soiree-x", "../../../tmp/soiree-x", ".hidden", "UPPER"] {
        let p = party("app");
        let toml = std::fs::read_to_string(p.path("party.toml")).unwrap();
        std::fs::write(p.path("party.toml"), toml.replace("closure-test", name)).unwrap();
        for cmd in ["check", "build"] {
            let out = party_cmd(&p, cmd);
            assert_eq!(out.status.code(), Some(1), "{cmd} {name}: {}", text(&out.stderr));
            assert!(
                text(&out.stderr).contains("is not a party name"),
                "{}",
                text(&out.stderr)
            );
            assert!(
                text(&out.stderr).contains("party.toml:2:"),
                "{}",
                text(&out.stderr)
            );
        }
        assert!(
            !p.path("data").exists(),
            "no development key was written for {name}"
        );
    }
}

#[test]
fn check_refuses_the_mappings_build_refuses() {
    for (to, says) in [
        ("/etc/web\\u0000.conf", "NUL"),
        ("/sandstorm-manifest", "soiree-pack writes this file itself"),
        ("/opt/soiree/services.json", "soiree-pack writes this file itself"),
    ] {
        let p = party("app");
        p.recipe("web", &format!("[[files]]\nto = \"{to}\"\ncontent = \"x\"\n"));
        for cmd in ["check", "build"] {
            let out = party_cmd(&p, cmd);
            assert_eq!(out.status.code(), Some(1), "{cmd} {to}: {}", text(&out.stderr));
            assert!(
                text(&out.stderr).contains(says),
                "{cmd} {to}: {}",
                text(&out.stderr)
            );
        }
    }
}

#[test]
fn development_keys_and_the_source_cache_are_private_whatever_the_umask() {
    let p = party("app");
    let out = common::soiree(p.dir.path(), p.dir.path())
        .args(["build", "--out", "dist", "--offline"])
        .output_with_umask0();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let keys = p.path("data/soiree-pack/dev-keys");
    assert_eq!(
        std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for e in std::fs::read_dir(&keys).unwrap() {
        let mode = e.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

trait Umask0 {
    fn output_with_umask0(&mut self) -> std::process::Output;
}

impl Umask0 for std::process::Command {
    fn output_with_umask0(&mut self) -> std::process::Output {
        // SAFETY: umask is async-signal-safe.
        unsafe {
            self.pre_exec(|| {
                libc::umask(0);
                Ok(())
            });
        }
        self.output().unwrap()
    }
}
